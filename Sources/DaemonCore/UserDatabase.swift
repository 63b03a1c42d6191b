#if canImport(Glibc)
import Glibc
#endif

/// The user and group a script runs as.
public struct ScriptCredentials: Sendable, Hashable, CustomStringConvertible {
    public var uid: uid_t
    public var gid: gid_t

    public init(uid: uid_t, gid: gid_t) {
        self.uid = uid
        self.gid = gid
    }

    /// The daemon's own.
    public static var current: ScriptCredentials { ScriptCredentials(uid: geteuid(), gid: getegid()) }

    /// keepalived's `uid:gid` notation.
    public var description: String { "\(uid):\(gid)" }
}

/// Why a user or group name gave no credentials, in keepalived's words.
public enum UserLookupError: Error, Sendable, Equatable, CustomStringConvertible {
    case noSuchUser(String)
    case noSuchGroup(String)
    case failed(String, code: Int32)

    public var description: String {
        switch self {
        case .noSuchUser(let name): return "Script user '\(name)' does not exist"
        case .noSuchGroup(let name): return "Script group '\(name)' does not exist"
        case .failed(let name, let code): return "Unable to resolve script username '\(name)' - \(String(cString: strerror(code)))"
        }
    }
}

/// The passwd and group databases (getpwnam_r, getgrnam_r): the only place that reads them.
public enum UserDatabase {
    /// `user`'s uid and primary group, or `group`'s gid when one is named, as keepalived takes them.
    public static func credentials(user: String, group: String?) throws(UserLookupError) -> ScriptCredentials {
        var buffer = [CChar](repeating: 0, count: 16384)
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        let result = getpwnam_r(user, &entry, &buffer, buffer.count, &found)
        guard result == 0 else { throw .failed(user, code: result) }
        guard found != nil else { throw .noSuchUser(user) }
        var credentials = ScriptCredentials(uid: entry.pw_uid, gid: entry.pw_gid)
        if let group {
            credentials.gid = try gid(of: group)
        }
        return credentials
    }

    public static func gid(of group: String) throws(UserLookupError) -> gid_t {
        var buffer = [CChar](repeating: 0, count: 65536)
        var entry = Glibc.group()
        var found: UnsafeMutablePointer<Glibc.group>?
        let result = getgrnam_r(group, &entry, &buffer, buffer.count, &found)
        guard result == 0 else { throw .failed(group, code: result) }
        guard found != nil else { throw .noSuchGroup(group) }
        return entry.gr_gid
    }

    /// Whether `user` exists (keepalived's `keepalived_script` is used only when it does).
    public static func exists(_ user: String) -> Bool {
        (try? credentials(user: user, group: nil)) != nil
    }
}
