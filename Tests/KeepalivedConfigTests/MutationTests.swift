import Foundation
import KeepalivedConfig
import XCTest

/// Thousands of damaged configs: the parser must answer each one, quickly, without crashing.
final class MutationTests: XCTestCase {
    /// A fixed-seed generator, so a failure can be replayed.
    private struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    private enum Mutation: CaseIterable {
        case dropBrace, addBrace, swapTokens, truncate, randomBytes, duplicateLine, deleteLine, randomToken
    }

    private static func mutate(_ text: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var bytes = text
        guard !bytes.isEmpty else { return bytes }
        switch Mutation.allCases.randomElement(using: &random)! {
        case .dropBrace:
            let braces = bytes.indices.filter { bytes[$0] == UInt8(ascii: "{") || bytes[$0] == UInt8(ascii: "}") }
            if let index = braces.randomElement(using: &random) { bytes.remove(at: index) }
        case .addBrace:
            bytes.insert([UInt8(ascii: "{"), UInt8(ascii: "}")].randomElement(using: &random)!, at: Int.random(in: 0...bytes.count, using: &random))
        case .swapTokens:
            var words = bytes.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false).map(Array.init)
            if words.count > 1 {
                words.swapAt(Int.random(in: 0..<words.count, using: &random), Int.random(in: 0..<words.count, using: &random))
            }
            bytes = Array(words.joined(separator: [UInt8(ascii: " ")]))
        case .truncate:
            bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random)))
        case .randomBytes:
            for _ in 0..<Int.random(in: 1...16, using: &random) {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
        case .duplicateLine, .deleteLine:
            var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
            let index = Int.random(in: 0..<lines.count, using: &random)
            if Bool.random(using: &random) { lines.insert(lines[index], at: index) } else { lines.remove(at: index) }
            bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
        case .randomToken:
            let tokens = ["{", "}", "$X", "${", "\"", "'", "include x", "include /etc/keepalived/keepalived.conf", "@", "\\", "#", "!",
                          "0", "-1", "99999999999999999999", "::", "1.2.3.4/99", "real_server", "url", "\n", "\r"]
            bytes.insert(contentsOf: tokens.randomElement(using: &random)!.utf8, at: Int.random(in: 0...bytes.count, using: &random))
        }
        return bytes
    }

    func testThousandsOfDamagedConfigsNeverCrashOrHang() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: configsDirectory).filter { $0.hasSuffix(".conf") }.sorted()
        let originals = try names.map { Array(try Data(contentsOf: URL(fileURLWithPath: "\(configsDirectory)/\($0)"))) }
        XCTAssertFalse(originals.isEmpty)
        let rounds = 4000
        let finished = expectation(description: "all mutated configs parsed")
        let counter = ParseCounter()
        DispatchQueue.global().async {
            var random = SplitMix64(state: 0x5EED)
            for round in 0..<rounds {
                var bytes = originals[round % originals.count]
                for _ in 0...Int.random(in: 0...3, using: &random) { bytes = Self.mutate(bytes, &random) }
                let include: [UInt8] = Array("vrrp_instance VI_X {\n interface lan0\n virtual_router_id 9\n}\n".utf8)
                let fileSystem = InMemoryFileSystem(byteFiles: ["/etc/keepalived/keepalived.conf": bytes, "/etc/keepalived/x": include])
                let result = ConfigLoader.load(path: "/etc/keepalived/keepalived.conf",
                                               options: ConfigLoadOptions(fileSystem: fileSystem, configID: "lb1", interfaceExists: nil))
                _ = ConfigDump.render(result.configuration)
                counter.add(errors: result.diagnostics.errors.count)
            }
            finished.fulfill()
        }
        wait(for: [finished], timeout: 120)
        XCTAssertEqual(counter.parsed, rounds)
        XCTAssertGreaterThan(counter.withErrors, rounds / 4, "the mutations should break many configs")
    }
}

/// Counts results from the background queue.
private final class ParseCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var parsedCount = 0
    private var errorCount = 0

    func add(errors: Int) {
        lock.lock()
        defer { lock.unlock() }
        parsedCount += 1
        if errors > 0 { errorCount += 1 }
    }

    var parsed: Int { lock.lock(); defer { lock.unlock() }; return parsedCount }
    var withErrors: Int { lock.lock(); defer { lock.unlock() }; return errorCount }
}
