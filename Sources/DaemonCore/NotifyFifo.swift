#if canImport(Glibc)
import Glibc
#endif

/// One notify FIFO, open for writing without ever blocking: opened read-write (so opening does
/// not wait for a reader and a reader that leaves causes no SIGPIPE) and non-blocking (a reader
/// that stalls costs the lines it does not take, never an advert). The kernel-interface layer.
public final class NotifyFifo: @unchecked Sendable {
    public let path: String
    private var descriptor: Int32
    /// Only a FIFO the daemon made is removed at the end.
    private let created: Bool

    private init(path: String, descriptor: Int32, created: Bool) {
        self.path = path
        self.descriptor = descriptor
        self.created = created
    }

    public enum OpenError: Error, Sendable, Equatable {
        case cannotCreate(Int32)
        case cannotOpen(Int32)
        case notOurs
    }

    /// Makes the FIFO (mode 0644 less the umask) unless it exists, gives a new one to `owner`,
    /// calls `beforeOpening` (keepalived starts the FIFO's script there) and opens it. A path
    /// that is not a FIFO owned by us or by `owner` is refused: someone may have planted it.
    public static func open(path: String, owner: ScriptCredentials, ownerFailed: () -> Void,
                            beforeOpening: () -> Void) -> Result<NotifyFifo, OpenError> {
        var created = false
        if mkfifo(path, 0o644) == 0 {
            created = true
            let own = ScriptCredentials.current
            if owner != own {
                if chown(path, owner.uid != own.uid ? owner.uid : uid_t.max, owner.gid != own.gid ? owner.gid : gid_t.max) != 0 { ownerFailed() }
            }
        } else if errno != EEXIST {
            return .failure(.cannotCreate(errno))
        }
        beforeOpening()
        let descriptor = Glibc.open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW)
        guard descriptor >= 0 else {
            let code = errno
            if created { unlink(path) }
            return .failure(.cannotOpen(code))
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFIFO,
              status.st_uid == geteuid() || status.st_uid == owner.uid else {
            Glibc.close(descriptor)
            return .failure(.notOurs)
        }
        return .success(NotifyFifo(path: path, descriptor: descriptor, created: created))
    }

    /// Writes one line; a full FIFO drops it (nil), any other failure gives its errno.
    public func write(_ line: String) -> Int32? {
        guard descriptor >= 0 else { return nil }
        let bytes = Array(line.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        if written < 0 && errno != EAGAIN && errno != EINTR { return errno }
        return nil
    }

    /// Removes a FIFO we made, then closes it: unlinked first, so a reader that reopens it in a
    /// loop cannot find it again.
    public func close() {
        if created { unlink(path) }
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }
}
