import KeepalivedConfig
import XCTest

let mainPath = "/etc/keepalived/keepalived.conf"

/// Parses `text` as the main config, with `files` beside it in memory and no interface check.
func parse(_ text: String, files: [String: String] = [:], configID: String = "lb1") -> LoadedConfiguration {
    var all = files
    all[mainPath] = text
    let options = ConfigLoadOptions(fileSystem: InMemoryFileSystem(files: all), configID: configID, interfaceExists: nil)
    return ConfigLoader.load(path: mainPath, options: options)
}

/// Parses and fails the test on any error, returning the model.
func parseClean(_ text: String, files: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) -> KeepalivedConfiguration {
    let result = parse(text, files: files)
    XCTAssertEqual(result.diagnostics.errors.map(\.description), [], file: file, line: line)
    return result.configuration
}

/// Asserts that exactly one diagnostic of `severity` mentions `fragment`, at `line` of `path`.
func assertDiagnostic(_ result: LoadedConfiguration, _ severity: Severity, line expectedLine: Int, path: String = mainPath,
                      contains fragment: String, file: StaticString = #filePath, line: UInt = #line) {
    let matches = result.diagnostics.all.filter { $0.severity == severity && $0.message.contains(fragment) }
    guard matches.count == 1, let match = matches.first else {
        XCTFail("expected one \(severity) containing '\(fragment)', got: \(result.diagnostics.all.map(\.description))", file: file, line: line)
        return
    }
    XCTAssertEqual(match.location.line, expectedLine, "\(match)", file: file, line: line)
    XCTAssertEqual(match.location.file, path, "\(match)", file: file, line: line)
}

/// A minimal valid VRRP instance, with `extra` lines inside it.
func instance(_ extra: String = "", name: String = "VI_1", vrid: Int = 51) -> String {
    """
    vrrp_instance \(name) {
        interface lan0
        virtual_router_id \(vrid)
        \(extra)
    }

    """
}

/// The repository's Configs folder.
let configsDirectory: String = {
    var path = "\(#filePath)"
    for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
    return path + "/Configs"
}()
