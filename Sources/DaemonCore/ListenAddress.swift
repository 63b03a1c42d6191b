import KeepalivedConfig

/// Where a small TCP server listens: `ADDRESS:PORT`, with an IPv6 address in brackets
/// (`[::1]:9650`) and `:PORT` for every address.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// Nil: every IPv4 and IPv6 address.
    public let address: IPAddress?
    public let port: UInt16

    public init(address: IPAddress?, port: UInt16) {
        self.address = address
        self.port = port
    }

    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0 else { return nil }
        var host = Substring(text[..<colon])
        if host.first == "[" {
            guard host.last == "]" else { return nil }
            host = host.dropFirst().dropLast()
            guard host.contains(":") else { return nil }
        } else if host.contains(":") {
            // An IPv6 address without brackets cannot be told from its port.
            return nil
        }
        if host.isEmpty {
            address = nil
        } else {
            guard let address = IPAddress(String(host)) else { return nil }
            self.address = address
        }
        self.port = port
    }

    public var description: String {
        switch address {
        case nil: return ":\(port)"
        case let address? where address.family == .inet6: return "[\(address)]:\(port)"
        case let address?: return "\(address):\(port)"
        }
    }
}
