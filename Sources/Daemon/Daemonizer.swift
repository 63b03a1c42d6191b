#if canImport(Glibc)
import Glibc
#endif
import DaemonCore

/// The classic detach: fork, let the parent exit, start a session, point the standard streams at
/// /dev/null and close every other inherited descriptor (a launcher waiting for its pipes to close
/// must not wait for the daemon). Must run before any thread or Dispatch queue exists.
enum Daemonizer {
    static func detach() {
        let pid = fork()
        if pid < 0 {
            perror("fork")
            exit(1)
        }
        if pid > 0 { _exit(0) }
        setsid()
        _ = chdir("/")
        let null = open("/dev/null", O_RDWR)
        if null >= 0 {
            dup2(null, 0)
            dup2(null, 1)
            dup2(null, 2)
            if null > 2 { close(null) }
        }
        closeInheritedDescriptors()
    }

    private static func closeInheritedDescriptors() {
        guard let directory = opendir("/proc/self/fd") else { return }
        var inherited: [Int32] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let descriptor = Int32(name), descriptor > 2 { inherited.append(descriptor) }
        }
        let own = dirfd(directory)
        closedir(directory)
        for descriptor in inherited where descriptor != own { close(descriptor) }
    }
}

/// The pid file: refuses to start when a live process holds it, replaces a stale one, and is
/// removed on a clean exit.
final class PidFile: @unchecked Sendable {
    let path: String

    private init(path: String) {
        self.path = path
    }

    struct HeldByLiveProcess: Error, CustomStringConvertible {
        let path: String
        let pid: Int32
        var description: String { "\(path) belongs to running process \(pid); is another keepalived running?" }
    }

    struct CannotWrite: Error, CustomStringConvertible {
        let path: String
        let code: Int32
        var description: String { "cannot write pid file \(path): \(String(cString: strerror(code)))" }
    }

    static func create(at path: String) throws -> PidFile {
        if let existing = readPid(path), existing != getpid(), kill(existing, 0) == 0 || errno == EPERM {
            throw HeldByLiveProcess(path: path, pid: existing)
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw CannotWrite(path: path, code: errno) }
        defer { close(descriptor) }
        let text = Array("\(getpid())\n".utf8)
        guard write(descriptor, text, text.count) == text.count else { throw CannotWrite(path: path, code: errno) }
        return PidFile(path: path)
    }

    private static func readPid(_ path: String) -> Int32? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = read(descriptor, &buffer, buffer.count)
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters())
    }

    /// A folder made for this pid file (a namespace's, under /run/keepalived), removed with it
    /// when empty, as keepalived removes its namespace's folder.
    var folder: String?

    func remove() {
        unlink(path)
        if let folder { rmdir(folder) }
    }
}

extension String {
    func trimmingCharacters() -> String {
        String(self.drop { $0 == " " || $0 == "\n" }.reversed().drop { $0 == " " || $0 == "\n" }.reversed())
    }
}
