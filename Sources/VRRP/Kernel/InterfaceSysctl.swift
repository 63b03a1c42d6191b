#if canImport(Glibc)
import Glibc
#endif
import DaemonCore

/// An interface's settings under /proc/sys/net/ipv4/conf (or ipv6/conf): read and written as
/// the text the kernel keeps there.
public enum InterfaceSysctl {
    public static func path(_ family: String, _ interface: String, _ key: String) -> String {
        "/proc/sys/net/\(family)/conf/\(interface)/\(key)"
    }

    public static func read(_ interface: String, _ key: String, family: String = "ipv4") -> Int? {
        guard let file = fopen(path(family, interface, key), "r") else { return nil }
        defer { fclose(file) }
        var value: Int32 = 0
        return fscanf_int(file, &value) ? Int(value) : nil
    }

    public static func write(_ interface: String, _ key: String, _ value: Int, family: String = "ipv4") throws {
        let where_ = path(family, interface, key)
        guard let file = fopen(where_, "w") else { throw SystemError("open(\(where_))", errno: errno) }
        defer { fclose(file) }
        let text = "\(value)\n"
        guard fputs(text, file) >= 0, fflush(file) == 0 else { throw SystemError("write(\(where_))", errno: errno) }
    }

    private static func fscanf_int(_ file: UnsafeMutablePointer<FILE>, _ value: inout Int32) -> Bool {
        var line = [CChar](repeating: 0, count: 32)
        guard fgets(&line, Int32(line.count), file) != nil else { return false }
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).filter { !$0.isWhitespace }
        guard let parsed = Int32(text) else { return false }
        value = parsed
        return true
    }
}
