import KeepalivedConfig
import DaemonCore

/// A VRRP version 2 advertisement (RFC 3768 section 5.3): what is on the wire after the IP header.
public struct VRRPAdvertisement: Sendable, Equatable {
    public static let ipProtocol: Int32 = 112
    public static let version: UInt8 = 2
    public static let typeAdvertisement: UInt8 = 1
    public static let authenticationDataLength = 8

    public enum AuthenticationType: UInt8, Sendable {
        case none = 0
        case simpleText = 1
        case ipAuthenticationHeader = 2
    }

    public var virtualRouterID: UInt8
    public var priority: UInt8
    public var authenticationType: AuthenticationType
    /// Seconds between adverts; VRRPv2 carries whole seconds only.
    public var advertisementInterval: UInt8
    /// IPv4 addresses only: VRRPv2 is an IPv4 protocol.
    public var addresses: [IPAddress]
    /// The 8 authentication bytes: the password, zero-padded, for simple text; zeros otherwise.
    public var authenticationData: [UInt8]

    public init(virtualRouterID: UInt8, priority: UInt8, authenticationType: AuthenticationType = .none,
                advertisementInterval: UInt8, addresses: [IPAddress], password: String? = nil) {
        self.virtualRouterID = virtualRouterID
        self.priority = priority
        self.authenticationType = authenticationType
        self.advertisementInterval = advertisementInterval
        self.addresses = addresses
        var data = Array((password ?? "").utf8.prefix(Self.authenticationDataLength))
        data += [UInt8](repeating: 0, count: Self.authenticationDataLength - data.count)
        self.authenticationData = data
    }

    /// The wire form, checksum included.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = [
            Self.version << 4 | Self.typeAdvertisement,
            virtualRouterID,
            priority,
            UInt8(truncatingIfNeeded: addresses.count),
            authenticationType.rawValue,
            advertisementInterval,
            0, 0,
        ]
        bytes.reserveCapacity(8 + 4 * addresses.count + Self.authenticationDataLength)
        for address in addresses {
            guard case .v4(let value) = address else { continue }
            bytes += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        }
        bytes += authenticationData
        let checksum = InternetChecksum.compute(bytes)
        bytes[6] = UInt8(checksum >> 8)
        bytes[7] = UInt8(checksum & 0xFF)
        return bytes
    }

    /// Why bytes are not a well-formed advertisement. Whether a well-formed one fits an
    /// instance (VRID, password, interval, addresses) is `AdvertisementCheck`'s question.
    public enum DecodeError: Error, Sendable, Equatable, CustomStringConvertible {
        case tooShort(length: Int)
        case badVersion(UInt8)
        case badType(UInt8)
        case badChecksum
        case lengthMismatch(addressCount: Int, length: Int)
        case unknownAuthenticationType(UInt8)

        public var description: String {
            switch self {
            case .tooShort(let length): return "packet of \(length) bytes is shorter than a VRRP header"
            case .badVersion(let version): return "VRRP version \(version), expected 2"
            case .badType(let type): return "VRRP packet type \(type), expected 1 (advertisement)"
            case .badChecksum: return "bad VRRP checksum"
            case .lengthMismatch(let count, let length):
                return "a packet of \(length) bytes for \(count) addresses (\(8 + 4 * count + VRRPAdvertisement.authenticationDataLength) expected)"
            case .unknownAuthenticationType(let type): return "unknown authentication type \(type)"
            }
        }

        /// A short stable name, for counters and once-per-reason logging.
        public var reason: String {
            switch self {
            case .tooShort: return "too short"
            case .badVersion: return "bad version"
            case .badType: return "bad type"
            case .badChecksum: return "bad checksum"
            case .lengthMismatch: return "bad length"
            case .unknownAuthenticationType: return "bad authentication type"
            }
        }
    }

    /// The smallest Ethernet payload: shorter frames are padded up to it.
    static let minimumEthernetPayload = 46

    /// Parses the VRRP part of a packet (after the IP header).
    public static func decode(_ bytes: ArraySlice<UInt8>) -> Result<VRRPAdvertisement, DecodeError> {
        let base = bytes.startIndex
        guard bytes.count >= 8 + authenticationDataLength else { return .failure(.tooShort(length: bytes.count)) }
        let version = bytes[base] >> 4
        guard version == Self.version else { return .failure(.badVersion(version)) }
        let type = bytes[base] & 0x0F
        guard type == typeAdvertisement else { return .failure(.badType(type)) }
        let count = Int(bytes[base + 3])
        let expectedLength = 8 + 4 * count + authenticationDataLength
        // RFC 3768 7.1: the packet must hold the advertised count of addresses. Bytes beyond are
        // refused unless they could be Ethernet padding (the IP packet, with a 20-byte header,
        // within the 46-byte minimum payload), as keepalived does: "vrrp packet … too long".
        let mayBePadding = bytes.count > expectedLength && 20 + bytes.count <= Self.minimumEthernetPayload
        guard bytes.count == expectedLength || mayBePadding else {
            return .failure(.lengthMismatch(addressCount: count, length: bytes.count))
        }
        let message = bytes[base..<(base + expectedLength)]
        guard InternetChecksum.compute(message) == 0 else { return .failure(.badChecksum) }
        guard let authentication = AuthenticationType(rawValue: bytes[base + 4]) else {
            return .failure(.unknownAuthenticationType(bytes[base + 4]))
        }
        var addresses: [IPAddress] = []
        addresses.reserveCapacity(count)
        for index in 0..<count {
            let offset = base + 8 + 4 * index
            let value = UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
            addresses.append(.v4(value))
        }
        let authStart = base + 8 + 4 * count
        var advertisement = VRRPAdvertisement(virtualRouterID: bytes[base + 1], priority: bytes[base + 2],
                                              authenticationType: authentication, advertisementInterval: bytes[base + 5],
                                              addresses: addresses)
        advertisement.authenticationData = Array(bytes[authStart..<(authStart + authenticationDataLength)])
        return .success(advertisement)
    }
}

/// The 16-bit one's complement checksum of RFC 1071, used by IP and VRRP.
public enum InternetChecksum {
    /// Over `bytes` with the checksum field as it is: 0 means a received message is intact; over a
    /// message whose checksum field is zero, it is the value to put there.
    public static func compute<Bytes: Collection>(_ bytes: Bytes) -> UInt16 where Bytes.Element == UInt8 {
        var sum: UInt32 = 0
        var high = true
        for byte in bytes {
            sum &+= high ? UInt32(byte) << 8 : UInt32(byte)
            high.toggle()
        }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }
}
