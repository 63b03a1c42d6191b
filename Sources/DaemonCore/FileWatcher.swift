#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// Tells when files are written, replaced, moved or deleted, through inotify on their folders
/// (a file that does not exist yet, or is replaced by a rename, is still seen). No polling: the
/// loop wakes only when a watched folder changes. The only place with inotify calls.
public final class FileWatcher: @unchecked Sendable {
    private let descriptor: Int32
    private var source: LoopReadSource?
    /// Watch descriptor → folder path.
    private var folders: [Int32: String] = [:]
    private var buffer = [UInt8](repeating: 0, count: 4096)

    /// `changed` runs on `loop` with the full path of each file that changed in a watched folder.
    public init(loop: EventLoop, changed: @escaping @Sendable (String) -> Void) throws {
        descriptor = try systemCall("inotify_init1") { inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) }
        source = loop.readSource(descriptor) { [weak self] in
            self?.drain().forEach(changed)
        }
    }

    deinit {
        source?.cancel()
        close(descriptor)
    }

    /// Watches the folder that holds `path` (once per folder).
    public func watch(fileAt path: String) throws {
        let folder = Self.folder(of: path)
        guard !folders.values.contains(folder) else { return }
        let mask = UInt32(IN_CLOSE_WRITE) | UInt32(IN_DELETE) | UInt32(IN_MOVED_FROM) | UInt32(IN_MOVED_TO) | UInt32(IN_CREATE)
        let watch = try systemCall("inotify_add_watch(\(folder))") { inotify_add_watch(descriptor, folder, mask) }
        folders[watch] = folder
    }

    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Reads every pending event; returns the paths they name.
    private func drain() -> [String] {
        var paths: [String] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { return paths }
            buffer.withUnsafeBytes { bytes in
                var offset = 0
                let header = MemoryLayout<inotify_event>.size
                while offset + header <= count {
                    let event = bytes.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    let nameBytes = bytes[(offset + header)..<min(offset + header + Int(event.len), count)]
                    let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
                    if let folder = folders[event.wd], !name.isEmpty {
                        paths.append(folder == "/" ? "/" + name : folder + "/" + name)
                    }
                    offset += header + Int(event.len)
                }
            }
        }
    }
}
