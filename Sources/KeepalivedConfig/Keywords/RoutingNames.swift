#if canImport(Glibc)
import Glibc
#endif

/// The names `ip` (and keepalived) accept for routing tables and route protocols: the kernel's
/// own, then those of /etc/iproute2/rt_tables and rt_protos, where an operator names his tables.
enum RoutingNames {
    static let builtinTables = ["default": 253, "main": 254, "local": 255]
    static let builtinProtocols = [
        "unspec": 0, "redirect": 1, "kernel": 2, "boot": 3, "static": 4, "gated": 8, "ra": 9, "mrt": 10,
        "zebra": 11, "bird": 12, "dnrouted": 13, "xorp": 14, "ntk": 15, "dhcp": 16, "keepalived": 18,
        "babel": 42, "bgp": 186, "isis": 187, "ospf": 188, "rip": 189, "eigrp": 192,
    ]

    /// A table number (`100`, `0x64`) or name; nil when neither.
    static func table(_ text: String) -> Int? {
        if let number = unsigned(text, maximum: UInt64(UInt32.max)) { return Int(number) }
        return builtinTables[text] ?? fileEntry(text, in: ["/etc/iproute2/rt_tables", "/usr/share/iproute2/rt_tables"])
    }

    static func `protocol`(_ text: String) -> Int? {
        if let number = unsigned(text, maximum: 255) { return Int(number) }
        return builtinProtocols[text] ?? fileEntry(text, in: ["/etc/iproute2/rt_protos", "/usr/share/iproute2/rt_protos"])
    }

    /// strtoul's reading with base 0 (decimal, 0x hex, 0 octal), whole word only.
    static func unsigned(_ text: String, maximum: UInt64) -> UInt64? {
        guard let first = text.first, first.isNumber else { return nil }
        let value: UInt64?
        if text.hasPrefix("0x") || text.hasPrefix("0X") {
            value = UInt64(text.dropFirst(2), radix: 16)
        } else if text.count > 1 && first == "0" {
            value = UInt64(text.dropFirst(), radix: 8)
        } else {
            value = UInt64(text)
        }
        guard let value, value <= maximum else { return nil }
        return value
    }

    /// `NUMBER NAME` lines of the first of `paths` that names `name`.
    private static func fileEntry(_ name: String, in paths: [String]) -> Int? {
        for path in paths {
            guard let file = fopen(path, "r") else { continue }
            defer { fclose(file) }
            var line: UnsafeMutablePointer<CChar>?
            var capacity = 0
            defer { free(line) }
            while getline(&line, &capacity, file) > 0, let line {
                let words = String(cString: line).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
                guard words.count >= 2, !words[0].hasPrefix("#"), words[1] == name else { continue }
                if let number = unsigned(String(words[0]), maximum: UInt64(UInt32.max)) { return Int(number) }
            }
        }
        return nil
    }
}
