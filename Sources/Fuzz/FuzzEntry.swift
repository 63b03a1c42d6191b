#if canImport(Glibc)
import Glibc
#endif

/// Built by Scripts/fuzz with `-sanitize=fuzzer,address -D FUZZING`: libFuzzer's entry point, the
/// target chosen by $FUZZ_TARGET (config or advert). Built plainly (as by `swift build`), a replay
/// tool: `swiftkeepalived-fuzz TARGET FILE...` runs each file through the target once, which is how
/// the unit tests replay the corpus without the sanitizers.
private func complain(_ text: String) {
    let line = "swiftkeepalived-fuzz: " + text + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

#if FUZZING
private let target: FuzzTarget = {
    let name = getenv("FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        complain("set FUZZ_TARGET to \(FuzzTarget.allCases.map(\.rawValue).joined(separator: " or "))")
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    target.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// libFuzzer's driver, from the fuzzer runtime that `-sanitize=fuzzer` links.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                             _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                             _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// SwiftPM links an executable's entry point as `<module>_main`; here it hands over to libFuzzer.
@_cdecl("swiftkeepalived_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { data, size in fuzzOneInput(data, size) }
}
#else
@main
enum FuzzReplay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            complain("usage: swiftkeepalived-fuzz config|advert FILE...")
            exit(2)
        }
        for path in arguments.dropFirst() {
            guard let file = fopen(path, "rb") else {
                complain("cannot open \(path)")
                exit(1)
            }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = fread(&chunk, 1, chunk.count, file)
                if count <= 0 { break }
                bytes.append(contentsOf: chunk[0..<count])
            }
            fclose(file)
            bytes.withUnsafeBytes { target.run($0) }
        }
        print("replayed \(arguments.count - 1) inputs through \(target.rawValue)")
    }
}
#endif
