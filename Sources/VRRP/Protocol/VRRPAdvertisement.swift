import KeepalivedConfig
import DaemonCore

/// A VRRP advertisement, version 2 (RFC 3768 section 5.3) or 3 (RFC 5798 section 5.2): what is on the
/// wire after the IP header.
public struct VRRPAdvertisement: Sendable, Equatable {
    public static let ipProtocol: Int32 = 112
    public static let typeAdvertisement: UInt8 = 1
    public static let authenticationDataLength = 8
    /// VRRPv3's Max Adver Int is 12 bits of centiseconds: at most 40.95 s.
    public static let maximumCentiseconds: UInt16 = 0x0FFF

    public enum AuthenticationType: UInt8, Sendable {
        case none = 0
        case simpleText = 1
        case ipAuthenticationHeader = 2
    }

    /// 2 or 3.
    public var version: UInt8
    public var virtualRouterID: UInt8
    public var priority: UInt8
    /// Version 2 only; version 3 has no authentication.
    public var authenticationType: AuthenticationType
    /// Between adverts, in the version's unit: whole seconds (v2), centiseconds (v3).
    public var advertisementInterval: UInt16
    /// IPv4 addresses, or IPv6 ones (version 3 only).
    public var addresses: [IPAddress]
    /// Version 2: the 8 authentication bytes, the password zero-padded for simple text; empty for version 3.
    public var authenticationData: [UInt8]
    /// Version 3 over IPv4, as received: whether the checksum covered RFC 5798's pseudo-header, or only
    /// the VRRP message as version 2 computes it (keepalived's `v3_checksum_as_v2`).
    public var checksumCoversPseudoHeader = true

    /// A version 2 advert.
    public init(virtualRouterID: UInt8, priority: UInt8, authenticationType: AuthenticationType = .none,
                advertisementInterval: UInt8, addresses: [IPAddress], password: String? = nil) {
        version = 2
        self.virtualRouterID = virtualRouterID
        self.priority = priority
        self.authenticationType = authenticationType
        self.advertisementInterval = UInt16(advertisementInterval)
        self.addresses = addresses
        var data = Array((password ?? "").utf8.prefix(Self.authenticationDataLength))
        data += [UInt8](repeating: 0, count: Self.authenticationDataLength - data.count)
        self.authenticationData = data
    }

    /// A version 3 advert.
    public init(virtualRouterID: UInt8, priority: UInt8, centiseconds: UInt16, addresses: [IPAddress]) {
        version = 3
        self.virtualRouterID = virtualRouterID
        self.priority = priority
        authenticationType = .none
        advertisementInterval = min(centiseconds, Self.maximumCentiseconds)
        self.addresses = addresses
        authenticationData = []
    }

    /// The interval the advert carries, in seconds.
    public var intervalSeconds: Double {
        version == 3 ? Double(advertisementInterval) / 100 : Double(advertisementInterval)
    }

    /// The IP addresses a version 3 checksum covers with the message (RFC 5798 section 5.2.8).
    public struct PseudoHeader: Sendable, Equatable {
        public var source: IPAddress
        public var destination: IPAddress

        public init(source: IPAddress, destination: IPAddress) {
            self.source = source
            self.destination = destination
        }

        /// The pseudo-header's bytes for a message of `length` bytes of protocol `nextHeader`
        /// (VRRP's by default): RFC 768's for IPv4, RFC 8200 section 8.1's for IPv6.
        public func bytes(length: Int, nextHeader: UInt8 = UInt8(VRRPAdvertisement.ipProtocol)) -> [UInt8] {
            let addresses = source.networkBytes + destination.networkBytes
            if source.family == .inet {
                return addresses + [0, nextHeader, UInt8(length >> 8), UInt8(length & 0xFF)]
            }
            return addresses + [0, 0, UInt8(length >> 8), UInt8(length & 0xFF), 0, 0, 0, nextHeader]
        }
    }

    /// The wire form, checksum included. A version 3 checksum covers `pseudoHeader` when one is
    /// given; without one it is computed as version 2's (`v3_checksum_as_v2`).
    public func encoded(pseudoHeader: PseudoHeader? = nil) -> [UInt8] {
        let addressBytes = addresses.flatMap(\.networkBytes)
        var bytes: [UInt8] = [version << 4 | Self.typeAdvertisement, virtualRouterID, priority, UInt8(truncatingIfNeeded: addresses.count)]
        if version == 3 {
            bytes += [UInt8(advertisementInterval >> 8 & 0x0F), UInt8(advertisementInterval & 0xFF)]
        } else {
            bytes += [authenticationType.rawValue, UInt8(truncatingIfNeeded: advertisementInterval)]
        }
        bytes += [0, 0]
        bytes.reserveCapacity(8 + addressBytes.count + authenticationData.count)
        bytes += addressBytes
        bytes += authenticationData
        let checksum = version == 3 && pseudoHeader != nil
            ? InternetChecksum.compute(pseudoHeader!.bytes(length: bytes.count) + bytes)
            : InternetChecksum.compute(bytes)
        bytes[6] = UInt8(checksum >> 8)
        bytes[7] = UInt8(checksum & 0xFF)
        return bytes
    }

    /// Why bytes are not a well-formed advertisement. Whether a well-formed one fits an
    /// instance (version, VRID, password, interval, addresses) is `AdvertisementCheck`'s question.
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
            case .badVersion(let version): return "VRRP version \(version), expected 2 or 3"
            case .badType(let type): return "VRRP packet type \(type), expected 1 (advertisement)"
            case .badChecksum: return "bad VRRP checksum"
            case .lengthMismatch(let count, let length):
                return "a packet of \(length) bytes for \(count) addresses"
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

    /// Parses the VRRP part of a packet (after the IP header). The addresses are IPv6 ones when
    /// `pseudoHeader` is of IPv6; a version 3 checksum is checked over it when it is given.
    public static func decode(_ bytes: ArraySlice<UInt8>, pseudoHeader: PseudoHeader? = nil) -> Result<VRRPAdvertisement, DecodeError> {
        let base = bytes.startIndex
        guard bytes.count >= 8 else { return .failure(.tooShort(length: bytes.count)) }
        let version = bytes[base] >> 4
        guard version == 2 || version == 3 else { return .failure(.badVersion(version)) }
        let type = bytes[base] & 0x0F
        guard type == typeAdvertisement else { return .failure(.badType(type)) }
        let isIPv6 = pseudoHeader?.source.family == .inet6
        let addressLength = isIPv6 ? 16 : 4
        let count = Int(bytes[base + 3])
        let trailer = version == 2 ? authenticationDataLength : 0
        let expectedLength = 8 + addressLength * count + trailer
        guard bytes.count >= 8 + trailer else { return .failure(.tooShort(length: bytes.count)) }
        // RFC 3768 7.1: the packet must hold the advertised count of addresses. Bytes beyond are
        // refused unless they could be Ethernet padding (the IPv4 packet, with a 20-byte header,
        // within the 46-byte minimum payload), as keepalived does: "vrrp packet … too long".
        let mayBePadding = !isIPv6 && bytes.count > expectedLength && 20 + bytes.count <= Self.minimumEthernetPayload
        guard bytes.count == expectedLength || mayBePadding else {
            return .failure(.lengthMismatch(addressCount: count, length: bytes.count))
        }
        let message = bytes[base..<(base + expectedLength)]
        var coversPseudoHeader = true
        if version == 3, let pseudoHeader {
            if InternetChecksum.compute(pseudoHeader.bytes(length: expectedLength) + message) != 0 {
                // Some peers compute version 3's checksum as version 2's (IPv4 only).
                guard !isIPv6, InternetChecksum.compute(message) == 0 else { return .failure(.badChecksum) }
                coversPseudoHeader = false
            }
        } else {
            guard InternetChecksum.compute(message) == 0 else { return .failure(.badChecksum) }
            coversPseudoHeader = version == 2
        }
        var addresses: [IPAddress] = []
        addresses.reserveCapacity(count)
        for index in 0..<count {
            let offset = base + 8 + addressLength * index
            if isIPv6 {
                addresses.append(IPAddress(v6Bytes: Array(bytes[offset..<(offset + 16)])))
            } else {
                addresses.append(.v4(UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
                    | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])))
            }
        }
        var advertisement: VRRPAdvertisement
        if version == 3 {
            let centiseconds = UInt16(bytes[base + 4] & 0x0F) << 8 | UInt16(bytes[base + 5])
            advertisement = VRRPAdvertisement(virtualRouterID: bytes[base + 1], priority: bytes[base + 2],
                                              centiseconds: centiseconds, addresses: addresses)
        } else {
            guard let authentication = AuthenticationType(rawValue: bytes[base + 4]) else {
                return .failure(.unknownAuthenticationType(bytes[base + 4]))
            }
            advertisement = VRRPAdvertisement(virtualRouterID: bytes[base + 1], priority: bytes[base + 2],
                                              authenticationType: authentication, advertisementInterval: bytes[base + 5],
                                              addresses: addresses)
            let authStart = base + 8 + addressLength * count
            advertisement.authenticationData = Array(bytes[authStart..<(authStart + authenticationDataLength)])
        }
        advertisement.checksumCoversPseudoHeader = coversPseudoHeader
        return .success(advertisement)
    }
}

extension IPAddress {
    /// The address as it is on the wire: 4 bytes for IPv4, 16 for IPv6.
    var networkBytes: [UInt8] {
        switch self {
        case .v4(let value): [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        case .v6: v6Bytes
        }
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
