#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How to read a configuration: where files come from, which `@id` lines apply, and how to tell
/// whether an interface exists (nil skips that check, as tests and `dynamic_interfaces` want).
public struct ConfigLoadOptions: Sendable {
    public var fileSystem: any ConfigFileSystem
    public var configID: String
    public var interfaceExists: (@Sendable (String) -> Bool)?

    public init(fileSystem: any ConfigFileSystem = HostFileSystem(), configID: String = HostInfo.shortHostName,
                interfaceExists: (@Sendable (String) -> Bool)? = HostInfo.interfaceExists) {
        self.fileSystem = fileSystem
        self.configID = configID
        self.interfaceExists = interfaceExists
    }
}

public struct LoadedConfiguration: Sendable {
    public var configuration: KeepalivedConfiguration
    public var diagnostics: Diagnostics
}

public enum ConfigLoader {
    /// Reads, parses and validates the file at `path` and everything it includes.
    public static func load(path: String, options: ConfigLoadOptions = ConfigLoadOptions()) -> LoadedConfiguration {
        let reader = StatementReader(mainFile: path, fileSystem: options.fileSystem, configID: options.configID)
        var context = ParseContext(reader: reader)
        var configuration = KeepalivedConfiguration()
        context.parseTopLevel(into: &configuration, table: KeepalivedConfiguration.keywords)
        configuration.virtualServers.trimCapacity()
        var diagnostics = context.diagnostics
        configuration.adoptInstanceSyncDaemon(&diagnostics)
        var validator = Validator(configuration: configuration, options: options, rejected: context.rejectedSettings)
        validator.run()
        diagnostics.append(contentsOf: validator.diagnostics)
        diagnostics.sortByLocation()
        configuration.dropScriptsWithoutCommand()
        return LoadedConfiguration(configuration: configuration, diagnostics: diagnostics)
    }
}

extension ConfigLoader {
    /// Parses config text held in memory (includes resolve against nothing, interfaces are not
    /// checked): for tests and tools that build configs on the fly.
    public static func load(text: String, path: String = "/etc/keepalived/keepalived.conf", configID: String = "") -> LoadedConfiguration {
        load(path: path, options: ConfigLoadOptions(fileSystem: InMemoryFileSystem(files: [path: text]), configID: configID,
                                                    interfaceExists: nil))
    }
}

/// Facts about the host the config is checked on.
public enum HostInfo {
    /// The first label of the node name: keepalived's default config id.
    public static var shortHostName: String {
        var name = utsname()
        uname(&name)
        let full = withUnsafeBytes(of: &name.nodename) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return String(full.split(separator: ".").first ?? "")
    }

    public static let interfaceExists: @Sendable (String) -> Bool = { name in
        !name.contains("/") && access("/sys/class/net/\(name)", F_OK) == 0
    }
}

extension Diagnostics {
    /// Orders diagnostics by file (in the order files were first read) and line, keeping the
    /// order of those on one line, so the output reads top to bottom like the config.
    mutating func sortByLocation() {
        let indexed = all.enumerated().sorted { lhs, rhs in
            let (a, b) = (lhs.element.location, rhs.element.location)
            if a.fileOrder != b.fileOrder { return a.fileOrder < b.fileOrder }
            if a.line != b.line { return a.line < b.line }
            return lhs.offset < rhs.offset
        }
        replaceAll(with: indexed.map(\.element))
    }

    mutating func append(contentsOf other: Diagnostics) {
        for diagnostic in other.all {
            if diagnostic.severity == .error { error(diagnostic.location, diagnostic.message) }
            else { warning(diagnostic.location, diagnostic.message) }
        }
    }
}

extension KeepalivedConfiguration {
    /// keepalived drops a vrrp_script with nothing to run (the validator warned), and whatever
    /// tracked it goes on as if it were not listed.
    mutating func dropScriptsWithoutCommand() {
        let dropped = Set(vrrpScripts.filter { $0.script?.command.isEmpty ?? true }.map(\.name))
        guard !dropped.isEmpty else { return }
        vrrpScripts.removeAll { dropped.contains($0.name) }
        for index in vrrpInstances.indices { vrrpInstances[index].trackScripts.removeAll { dropped.contains($0.name) } }
        for index in syncGroups.indices { syncGroups[index].trackScripts.removeAll { dropped.contains($0.name) } }
    }
}
