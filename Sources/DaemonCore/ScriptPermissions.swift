/// What the script checks need to know of a file: its type, permission bits and owners.
public struct FileStatus: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case directory, regular, symlink, other }

    public var kind: Kind
    /// Permission bits with set-uid, set-gid and sticky (the low 12 bits of st_mode).
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32

    public init(kind: Kind, mode: UInt32, uid: UInt32, gid: UInt32) {
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
    }
}

/// keepalived's rules for scripts (lib/notify.c), as pure functions of file status: who may
/// execute a file, when a script needs protecting, and which parts of its path a user other than
/// root could change.
public enum ScriptPermissions {
    static let setUID: UInt32 = 0o4000, setGID: UInt32 = 0o2000, sticky: UInt32 = 0o1000
    static let ownerExecute: UInt32 = 0o100, groupExecute: UInt32 = 0o010, otherExecute: UInt32 = 0o001
    static let groupWrite: UInt32 = 0o020, otherWrite: UInt32 = 0o002

    /// Whether `credentials` may execute the file: root with any execute bit, the owner with the
    /// owner's, a member of the file's group with the group's, anyone else with the others'.
    public static func isExecutable(_ file: FileStatus, by credentials: ScriptCredentials) -> Bool {
        if credentials.uid == 0 { return file.mode & (ownerExecute | groupExecute | otherExecute) != 0 }
        if credentials.uid == file.uid { return file.mode & ownerExecute != 0 }
        if credentials.gid == file.gid { return file.mode & groupExecute != 0 }
        return file.mode & otherExecute != 0
    }

    /// A script run as root (user or group), or set-uid / set-gid root, must not be changeable by
    /// anyone else: only then is its path checked.
    public static func needsProtection(_ file: FileStatus, runAs credentials: ScriptCredentials) -> Bool {
        credentials.uid == 0 || credentials.gid == 0
            || (file.uid == 0 && file.mode & ownerExecute != 0 && file.mode & setUID != 0)
            || (file.gid == 0 && file.mode & groupExecute != 0 && file.mode & setGID != 0)
    }

    /// Whether a user other than root could change this part of a script's path: it belongs to
    /// someone else, or it is a file or a folder without the sticky bit that a non-root group or
    /// everyone may write.
    public static func isUnsafe(_ component: FileStatus) -> Bool {
        if component.uid != 0 { return true }
        let guarded = component.kind == .regular || (component.kind == .directory && component.mode & sticky == 0)
        guard guarded else { return false }
        return (component.gid != 0 && component.mode & groupWrite != 0) || component.mode & otherWrite != 0
    }

    /// The verdict on a path from its components' statuses, "/" first and the script last (nil:
    /// could not be read). Folders must be folders and the script a file or a link; a link on the
    /// way is accepted when root owns it (its target is checked as a path of its own).
    public static func pathVerdict(_ components: [(path: String, status: FileStatus?)]) -> PathVerdict {
        for (offset, component) in components.enumerated() {
            guard let status = component.status else { return .notFound }
            let isLast = offset == components.count - 1
            let rightKind = isLast ? (status.kind == .regular || status.kind == .symlink)
                                   : (status.kind == .directory || status.kind == .symlink)
            guard rightKind else { return .wrongType }
            if isUnsafe(status) { return .unsafe(component.path) }
        }
        return .safe
    }

    /// Every prefix of an absolute path that keepalived checks: "/", "/usr", "/usr/bin", ….
    public static func components(of path: String) -> [String] {
        var prefixes = ["/"]
        var current = ""
        for part in path.split(separator: "/") {
            current += "/" + part
            prefixes.append(current)
        }
        return prefixes
    }
}

public enum PathVerdict: Sendable, Equatable {
    case safe
    case notFound
    case wrongType
    /// The first component someone other than root could change.
    case unsafe(String)
}
