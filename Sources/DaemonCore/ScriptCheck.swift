#if canImport(Glibc)
import Glibc
#endif

/// keepalived's check of a script before it is ever run (check_script_secure): found, executable
/// by the user it runs as, and, when it runs as root, no part of its path changeable by anyone
/// else. With `enable_script_security` such a script is refused; without, it is only logged.
public enum ScriptCheck {
    public struct Result: Sendable, Equatable {
        public var executable = false
        public var insecure = false
        public var inhibited = false
        public var notFound = false
        /// The program as found (a bare name resolved through PATH).
        public var program: String
        /// keepalived's log lines for this script, in order.
        public var messages: [String] = []

        /// Runs only when found, executable and not refused.
        public var isRunnable: Bool { executable && !inhibited && !notFound }
    }

    /// Checks the program `program` (a command's first word) that will run as `credentials`.
    public static func check(program: String, as credentials: ScriptCredentials, securityEnabled: Bool) -> Result {
        var result = Result(program: program)
        if !program.contains("/") {
            switch searchPath(for: program, as: credentials) {
            case .found(let path):
                result.messages.append("WARNING - script `\(program)` resolved by path search to `\(path)`. Please specify full path.")
                result.program = path
            case .denied:
                result.messages.append("Permissions failure for script \(program) in path - disabling")
                result.notFound = true
                return result
            case .missing:
                result.messages.append("Cannot find script \(program) in path - disabling")
                result.notFound = true
                return result
            }
        }
        let path = result.program
        let real: String
        switch FileSystemStatus.realPath(path) {
        case .success(let resolved): real = resolved
        case .failure(let error):
            result.messages.append("Script \(path) cannot be accessed - \(error.detail)")
            result.notFound = true
            return result
        }
        guard let file = FileSystemStatus.status(of: real, followingLinks: true) else {
            result.messages.append("Unable to access script `\(path)` - disabling")
            result.notFound = true
            return result
        }
        guard ScriptPermissions.isExecutable(file, by: credentials) else {
            result.messages.append("WARNING - script '\(path)' is not executable for uid:gid \(credentials.uid):\(credentials.gid) - disabling.")
            return result
        }
        result.executable = true
        guard ScriptPermissions.needsProtection(file, runAs: credentials) else { return result }
        for checked in real == path ? [path] : [path, real] {
            let components = ScriptPermissions.components(of: checked).map { ($0, FileSystemStatus.status(of: $0, followingLinks: false)) }
            switch ScriptPermissions.pathVerdict(components) {
            case .safe: continue
            case .notFound:
                result.messages.append("check_script_secure could not find script '\(checked)' - disabling")
                result.notFound = true
            case .wrongType:
                result.messages.append("Wrong file type found in script path '\(checked)'.")
                result.inhibited = true
            case .unsafe:
                result.messages.append("Unsafe permissions found for script '\(checked)'\(securityEnabled ? " - disabling" : "").")
                result.insecure = true
                result.inhibited = result.inhibited || securityEnabled
            }
        }
        return result
    }

    enum SearchResult { case found(String), denied, missing }

    /// PATH searched as execvp would, for a regular file `credentials` may execute.
    static func searchPath(for name: String, as credentials: ScriptCredentials) -> SearchResult {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        var denied = false
        for folder in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (folder.isEmpty ? "." : String(folder)) + "/" + name
            guard let status = FileSystemStatus.status(of: candidate, followingLinks: true) else { continue }
            if status.kind == .regular && ScriptPermissions.isExecutable(status, by: credentials) { return .found(candidate) }
            denied = true
        }
        return denied ? .denied : .missing
    }
}

/// stat, lstat and realpath for the script checks.
public enum FileSystemStatus {
    public static func status(of path: String, followingLinks: Bool) -> FileStatus? {
        var buffer = stat()
        let result = followingLinks ? stat(path, &buffer) : lstat(path, &buffer)
        guard result == 0 else { return nil }
        let kind: FileStatus.Kind
        switch buffer.st_mode & S_IFMT {
        case S_IFDIR: kind = .directory
        case S_IFREG: kind = .regular
        case S_IFLNK: kind = .symlink
        default: kind = .other
        }
        return FileStatus(kind: kind, mode: UInt32(buffer.st_mode & 0o7777), uid: buffer.st_uid, gid: buffer.st_gid)
    }

    public static func realPath(_ path: String) -> Result<String, SystemError> {
        guard let resolved = realpath(path, nil) else { return .failure(SystemError("realpath(\(path))", errno: errno)) }
        defer { free(resolved) }
        return .success(String(cString: resolved))
    }
}
