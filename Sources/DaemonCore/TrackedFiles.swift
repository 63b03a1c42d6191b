#if canImport(Glibc)
import Glibc
#endif
import KeepalivedConfig
import Logging

/// The config's `track_file`s as the running daemon sees them: each file's number, read at
/// start-up (after `init_file` wrote it where asked) and again whenever inotify says the file
/// changed. Each part (VRRP, checkers) keeps its own. Confined to the event loop.
public final class TrackedFiles: @unchecked Sendable {
    public private(set) var values: [String: Int64] = [:]
    private var names: [String: [String]] = [:]
    private var watcher: FileWatcher?
    private let logger: Logger
    /// Called with the name of a track_file whose number changed.
    public var onChange: (String) -> Void = { _ in }

    public init(_ files: [TrackFile], loop: EventLoop, logger: Logger) {
        self.logger = logger
        let used = files.filter { $0.path != nil }
        guard !used.isEmpty else { return }
        do {
            watcher = try FileWatcher(loop: loop) { [weak self] path in self?.changed(path) }
        } catch {
            logger.error("cannot watch the track_files: \(error); their numbers are read at start only")
        }
        for file in used {
            let path = file.path!
            names[path, default: []].append(file.name)
            if let value = file.initialValue { Self.initialise(path, value: value, overwrite: file.overwrite, logger: logger) }
            do {
                try watcher?.watch(fileAt: path)
            } catch {
                logger.error("track_file \(file.name): cannot watch \(path): \(error)")
            }
            values[file.name] = read(path) ?? 0
        }
    }

    /// The number of a track_file (0 for a missing or empty file, as keepalived reads it).
    public func value(of name: String) -> Int64 { values[name] ?? 0 }

    private func changed(_ path: String) {
        guard let tracking = names[path] else { return }
        guard let value = read(path) else { return }
        for name in tracking where values[name] != value {
            values[name] = value
            onChange(name)
        }
    }

    private func read(_ path: String) -> Int64? {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return 0 }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 127)
        let count = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return 0 }
        guard let value = TrackedFileEffect.value(ofFileText: String(decoding: bytes[..<count], as: UTF8.self)) else {
            logger.info("Invalid number read from \(path) - ignoring")
            return nil
        }
        return value
    }

    /// `init_file`: writes the value unless the file exists (or always, with `overwrite`).
    private static func initialise(_ path: String, value: Int, overwrite: Bool, logger: Logger) {
        guard overwrite || access(path, F_OK) != 0 else { return }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            return logger.error("init_file: cannot write \(path): \(SystemError("open", errno: errno).detail)")
        }
        let text = Array("\(value)\n".utf8)
        _ = text.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
    }
}
