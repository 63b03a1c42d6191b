#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the parser needs from the file system: reading a file and expanding an include pattern.
/// Tests and the fuzzer give it files from memory so they never depend on the host's disk.
public protocol ConfigFileSystem: Sendable {
    /// The file's bytes in pieces, read as they are asked for, or nil when it cannot be opened.
    /// Large configs are read in chunks so the whole file never sits in memory.
    func open(_ path: String) -> FileChunks?
    /// The sorted paths matching a glob pattern (an absolute path); a pattern without wildcards
    /// yields itself only when the file exists.
    func expand(pattern: String) -> [String]
}

/// The host's files, read with plain POSIX calls (the config is read once, so no buffering layer).
public struct HostFileSystem: ConfigFileSystem {
    public init() {}

    public func open(_ path: String) -> FileChunks? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            return nil
        }
        return FileChunks(descriptor: fd)
    }

    public func expand(pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        #if canImport(Glibc)
        let flags = GLOB_BRACE | GLOB_TILDE
        #else
        let flags: Int32 = 0
        #endif
        guard glob(pattern, flags, nil, &result) == 0 else { return [] }
        var paths: [String] = []
        for index in 0..<Int(result.gl_pathc) {
            if let path = result.gl_pathv[index] { paths.append(String(cString: path)) }
        }
        return paths.sorted()
    }
}

/// Files held in memory, for tests and fuzzing. Patterns support `*` and `?` in the last component.
public struct InMemoryFileSystem: ConfigFileSystem {
    public var files: [String: [UInt8]]

    public init(files: [String: String]) {
        self.init(byteFiles: files.mapValues { Array($0.utf8) })
    }

    public init(byteFiles: [String: [UInt8]]) {
        self.files = Dictionary(byteFiles.map { (Self.normalized($0.key), $0.value) }) { first, _ in first }
    }

    public func open(_ path: String) -> FileChunks? {
        files[Self.normalized(path)].map { FileChunks(bytes: $0) }
    }

    /// Resolves `.` and `..` the way the kernel would for paths without symbolic links.
    static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    public func expand(pattern: String) -> [String] {
        let pattern = Self.normalized(pattern)
        guard pattern.contains(where: { $0 == "*" || $0 == "?" }) else {
            return files[pattern] == nil ? [] : [pattern]
        }
        return files.keys.filter { fnmatch(pattern, $0, FNM_PATHNAME) == 0 }.sorted()
    }
}

/// A file's bytes, handed out a chunk at a time.
public final class FileChunks {
    private var descriptor: Int32?
    private var pending: [UInt8]?
    static let chunkSize = 1 << 20

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    public init(bytes: [UInt8]) {
        pending = bytes
    }

    deinit {
        if let descriptor { close(descriptor) }
    }

    /// Appends the next chunk to `buffer`; false at the end of the file or on a read error.
    func append(to buffer: inout [UInt8]) -> Bool {
        if let bytes = pending {
            pending = nil
            buffer.append(contentsOf: bytes)
            return !bytes.isEmpty
        }
        guard let descriptor else { return false }
        var failed = false
        let chunk = [UInt8](unsafeUninitializedCapacity: Self.chunkSize) { raw, initialized in
            var count = -1
            repeat {
                count = read(descriptor, raw.baseAddress, raw.count)
            } while count < 0 && errno == EINTR
            failed = count < 0
            initialized = max(count, 0)
        }
        guard !chunk.isEmpty, !failed else {
            close(descriptor)
            self.descriptor = nil
            return false
        }
        buffer.append(contentsOf: chunk)
        return true
    }
}
