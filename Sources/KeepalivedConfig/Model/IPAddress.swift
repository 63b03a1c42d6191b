#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum AddressFamily: String, Sendable, Hashable, CaseIterable {
    case inet
    case inet6
}

/// An IPv4 or IPv6 address, parsed and printed by the C library so it reads exactly as `ip` and
/// `ipvsadm` print it.
public enum IPAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Host byte order.
    case v4(UInt32)
    /// Network byte order, high half then low half.
    case v6(UInt64, UInt64)

    public init?(_ text: String) {
        // A config names tens of thousands of IPv4 addresses: the plain dotted quad is read here,
        // and anything else goes to inet_pton (which accepts exactly the same dotted quads).
        if let value = text.utf8.withContiguousStorageIfAvailable(Self.dottedQuad) ?? nil {
            self = .v4(value)
            return
        }
        let hasColon = text.utf8.withContiguousStorageIfAvailable { $0.contains(UInt8(ascii: ":")) } ?? text.utf8.contains(UInt8(ascii: ":"))
        if !hasColon {
            var address = in_addr()
            guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
            self = .v4(UInt32(bigEndian: address.s_addr))
        } else {
            var address = in6_addr()
            guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
            let bytes = withUnsafeBytes(of: &address) { Array($0) }
            self.init(v6Bytes: bytes)
        }
    }

    /// `a.b.c.d` with each part 0-255 in decimal without leading zeros, as inet_pton reads it;
    /// nil for anything else.
    private static func dottedQuad(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        var part: UInt32 = 0
        var digits = 0
        var parts = 0
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, parts < 3 else { return nil }
                value = value << 8 | part
                parts += 1
                part = 0
                digits = 0
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                if digits > 0 && part == 0 { return nil }
                part = part * 10 + UInt32(byte - UInt8(ascii: "0"))
                digits += 1
                guard part <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard digits > 0, parts == 3 else { return nil }
        return value << 8 | part
    }

    public init(v6Bytes bytes: [UInt8]) {
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<8 { high = high << 8 | UInt64(bytes[index]) }
        for index in 8..<16 { low = low << 8 | UInt64(bytes[index]) }
        self = .v6(high, low)
    }

    public var family: AddressFamily {
        if case .v4 = self { return .inet }
        return .inet6
    }

    public var maximumPrefixLength: Int { family == .inet ? 32 : 128 }

    public var isMulticast: Bool {
        switch self {
        case .v4(let value): return value >> 28 == 0xE
        case .v6(let high, _): return high >> 56 == 0xFF
        }
    }

    /// The address in network byte order, as the kernel's interfaces take it: 4 bytes for IPv4
    /// (16, zero-padded, when `paddedTo16`, as IPVS wants), 16 for IPv6. Nothing is allocated.
    public func withNetworkBytes<Result>(paddedTo16: Bool = false, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        var storage: (UInt32, UInt32, UInt32, UInt32)
        let count: Int
        switch self {
        case .v4(let value):
            storage = (value.bigEndian, 0, 0, 0)
            count = paddedTo16 ? 16 : 4
        case .v6(let high, let low):
            storage = (UInt32(truncatingIfNeeded: high >> 32).bigEndian, UInt32(truncatingIfNeeded: high).bigEndian,
                       UInt32(truncatingIfNeeded: low >> 32).bigEndian, UInt32(truncatingIfNeeded: low).bigEndian)
            count = 16
        }
        return try withUnsafeBytes(of: &storage) { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }

    /// An IPv4 address as a number (nil for IPv6).
    public var v4Value: UInt32? {
        guard case .v4(let value) = self else { return nil }
        return value
    }

    public var v6Bytes: [UInt8] {
        guard case .v6(let high, let low) = self else { return [] }
        return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
    }

    /// The address with every bit past the first `length` cleared (the network of a prefix).
    public func masked(to length: Int) -> IPAddress {
        switch self {
        case .v4(let value):
            return .v4(length <= 0 ? 0 : length >= 32 ? value : value & ~(UInt32.max >> UInt32(length)))
        case .v6(let high, let low):
            func keep(_ half: UInt64, _ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? half : half & ~(UInt64.max >> UInt64(bits)) }
            return .v6(keep(high, length), keep(low, length - 64))
        }
    }

    /// The address `offset` further on, or nil past the end of the address space.
    public func advanced(by offset: UInt64) -> IPAddress? {
        switch self {
        case .v4(let value):
            let next = UInt64(value) + offset
            return next <= UInt64(UInt32.max) ? .v4(UInt32(next)) : nil
        case .v6(let high, let low):
            let (sum, overflow) = low.addingReportingOverflow(offset)
            if overflow {
                guard high < UInt64.max else { return nil }
                return .v6(high + 1, sum)
            }
            return .v6(high, sum)
        }
    }

    /// How far `other` lies after this address, when both are of one family and the gap fits.
    public func distance(to other: IPAddress) -> UInt64? {
        switch (self, other) {
        case (.v4(let a), .v4(let b)) where b >= a: return UInt64(b - a)
        case (.v6(let ah, let al), .v6(let bh, let bl)):
            if ah == bh, bl >= al { return bl - al }
            if bh == ah + 1, bl < al { return bl &- al }
            return nil
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .v4(let value):
            return "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
        case .v6:
            var address = in6_addr()
            let bytes = v6Bytes
            withUnsafeMutableBytes(of: &address) { raw in
                for index in 0..<16 { raw[index] = bytes[index] }
            }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            _ = inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): return a < b
        case (.v4, .v6): return true
        case (.v6, .v4): return false
        case (.v6(let ah, let al), .v6(let bh, let bl)): return (ah, al) < (bh, bl)
        }
    }
}

/// An address with a prefix length, as in `10.0.0.1/24`.
public struct IPPrefix: Sendable, Hashable, CustomStringConvertible {
    public var address: IPAddress
    public var length: Int

    public init(address: IPAddress, length: Int) {
        self.address = address
        self.length = length
    }

    public var description: String { "\(address)/\(length)" }
}
