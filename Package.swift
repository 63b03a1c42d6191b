// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "swiftkeepalived",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "swiftkeepalived", targets: ["swiftkeepalived"]),
        .executable(name: "genhash", targets: ["genhash"]),
        .library(name: "KeepalivedConfig", targets: ["KeepalivedConfig"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),
        .target(name: "KeepalivedConfig", dependencies: ["CPCRE2"]),
        .systemLibrary(name: "CNetlink", pkgConfig: "libnl-route-3.0", providers: [.apt(["libnl-3-dev", "libnl-route-3-dev"])]),
        .systemLibrary(name: "CLinuxNet"),
        .systemLibrary(name: "CProcess"),
        .target(name: "DaemonCore", dependencies: [
            "KeepalivedConfig", "CLinuxNet", "CProcess",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "VRRP", dependencies: [
            "KeepalivedConfig", "DaemonCore", "CNetlink", "CLinuxNet", "COpenSSL",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .systemLibrary(name: "CNetlinkGenl", pkgConfig: "libnl-genl-3.0", providers: [.apt(["libnl-3-dev", "libnl-genl-3-dev"])]),
        .target(name: "IPVS", dependencies: [
            "KeepalivedConfig", "DaemonCore", "CNetlinkGenl",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(name: "HealthCheck", dependencies: [
            "KeepalivedConfig", "DaemonCore", "COpenSSL", "CLinuxNet",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "RouteAnnounce", dependencies: [
            "KeepalivedConfig", "DaemonCore", "VRRP",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "DaemonMetrics", dependencies: [
            "DaemonCore", "VRRP", "IPVS", "HealthCheck", "RouteAnnounce", "CZlib",
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
        ]),
        .target(name: "Daemon", dependencies: [
            "KeepalivedConfig", "DaemonCore", "VRRP", "IPVS", "HealthCheck", "DaemonMetrics", "RouteAnnounce",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(
            name: "swiftkeepalived",
            dependencies: [
                "KeepalivedConfig", "Daemon", "DaemonCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Scripts/fuzz builds it with libFuzzer and the address sanitizer; plainly built, it replays inputs.
        .executableTarget(name: "swiftkeepalived-fuzz", dependencies: ["KeepalivedConfig", "VRRP"], path: "Sources/Fuzz"),
        .executableTarget(
            name: "genhash",
            dependencies: [
                "HealthCheck", "KeepalivedConfig", "DaemonCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "KeepalivedConfigTests",
            dependencies: ["KeepalivedConfig"],
            exclude: ["Golden", "Data"]
        ),
        .testTarget(name: "VRRPTests", dependencies: ["VRRP", "DaemonCore", "KeepalivedConfig"]),
        .testTarget(name: "RouteAnnounceTests", dependencies: ["RouteAnnounce", "DaemonCore", "KeepalivedConfig"]),
        .testTarget(name: "IPVSTests", dependencies: ["IPVS", "KeepalivedConfig", "CNetlinkGenl"]),
        .testTarget(name: "IPVSKernelTests", dependencies: [
            "IPVS", "DaemonCore", "KeepalivedConfig",
            .product(name: "Logging", package: "swift-log"),
        ], exclude: ["netlink_fault.c"]),
        .testTarget(name: "DaemonCoreTests", dependencies: ["DaemonCore", "KeepalivedConfig"]),
        .testTarget(name: "DaemonMetricsTests", dependencies: ["DaemonMetrics", "VRRP", "IPVS", "HealthCheck", "RouteAnnounce", "DaemonCore", "CZlib"]),
        .testTarget(name: "HealthCheckTests", dependencies: ["HealthCheck", "KeepalivedConfig", "DaemonCore"]),
        .testTarget(name: "LabTests", exclude: ["check_servers.py", "advert_fuzzer.py"]),
        .testTarget(
            name: "CommandLineTests",
            dependencies: []
        ),
    ],
    swiftLanguageModes: [.v6]
)
