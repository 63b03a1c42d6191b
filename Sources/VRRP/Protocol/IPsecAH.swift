import KeepalivedConfig

/// VRRPv2's `auth_type AH` (RFC 3768 section 5.3.6.3) as keepalived puts it on the wire: an IPsec
/// Authentication Header (RFC 2402) between the IPv4 header and the VRRP packet, IP protocol 51,
/// next header 112, the sender's address as SPI, a sequence number, and an ICV of HMAC-MD5-96
/// (RFC 2403) keyed with the 8 password bytes over the IP header (TOS, fragment field and checksum
/// zeroed, and the TTL too for unicast), the header with the ICV zeroed, and the VRRP packet.
public enum IPsecAH {
    public static let ipProtocol: Int32 = 51
    public static let length = 24
    static let icvLength = 12
    /// 32-bit words minus 2, for a 96-bit ICV.
    static let payloadLength: UInt8 = 4

    /// A received header: what the checks need.
    public struct Received: Sendable, Equatable {
        public var spi: UInt32
        public var sequence: UInt32
        public var icv: [UInt8]
        /// The IP header and AH as the ICV covers them (TTL as received), then the VRRP packet.
        var covered: [UInt8]
    }

    /// Splits a received IPv4 packet of protocol 51: the header and where the VRRP packet starts;
    /// nil when it is no AH for VRRP with a 96-bit ICV.
    public static func parse(_ packet: ArraySlice<UInt8>, ipHeaderLength: Int) -> (header: Received, vrrpStart: Int)? {
        let start = packet.startIndex
        let ah = start + ipHeaderLength
        guard packet.count >= ipHeaderLength + length,
              Int32(packet[ah]) == VRRPAdvertisement.ipProtocol,
              packet[ah + 1] == payloadLength else { return nil }
        func word(_ offset: Int) -> UInt32 {
            packet[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }
        var covered = Array(packet)
        zeroMutableFields(&covered, unicast: false)
        for index in ipHeaderLength + 12..<ipHeaderLength + length { covered[index] = 0 }
        let received = Received(spi: word(ah + 4), sequence: word(ah + 8), icv: Array(packet[ah + 12..<ah + length]), covered: covered)
        return (received, ah + length)
    }

    /// The whole packet to send: `ipHeader` (protocol 51, its total length counting the AH),
    /// the AH with its ICV, `vrrp`.
    public static func seal(ipHeader: [UInt8], vrrp: [UInt8], spi: UInt32, sequence: UInt32, key: [UInt8], unicast: Bool) -> [UInt8] {
        var packet = ipHeader
        packet.reserveCapacity(ipHeader.count + length + vrrp.count)
        packet += [UInt8(VRRPAdvertisement.ipProtocol), payloadLength, 0, 0]
        for value in [spi, sequence] {
            packet += [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                       UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
        }
        let icvStart = packet.count
        packet += [UInt8](repeating: 0, count: icvLength)
        packet += vrrp
        var covered = packet
        zeroMutableFields(&covered, unicast: unicast)
        packet.replaceSubrange(icvStart..<icvStart + icvLength, with: icv(covered, key: key))
        return packet
    }

    /// Whether `header`'s ICV is the one `key` gives.
    public static func verifies(_ header: Received, key: [UInt8], unicast: Bool) -> Bool {
        var covered = header.covered
        if unicast { covered[8] = 0 }
        let expected = icv(covered, key: key)
        // Compared in constant time, as keepalived does.
        return zip(expected, header.icv).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0 && header.icv.count == icvLength
    }

    /// RFC 2402's immutable view of the IPv4 header: TOS, flags and fragment offset, checksum zeroed; TTL too for
    /// unicast (it may change on the way), as keepalived does.
    private static func zeroMutableFields(_ packet: inout [UInt8], unicast: Bool) {
        packet[1] = 0
        packet[6] = 0
        packet[7] = 0
        packet[10] = 0
        packet[11] = 0
        if unicast { packet[8] = 0 }
    }

    private static func icv(_ bytes: [UInt8], key: [UInt8]) -> [UInt8] {
        Array(HMACMD5.digest(bytes, key: key).prefix(icvLength))
    }
}

/// An instance's state for `auth_type AH`: its key, and keepalived's one sequence counter per
/// instance, which numbers the adverts it sends and refuses received ones it has already seen (a
/// backup that takes over carries on from the master's last number, so the peers keep accepting).
public struct AHAuthenticator: Sendable, Equatable {
    public enum Failure: String, Sendable {
        case missing = "IPSEC-AH : advert without its authentication header"
        case icv = "IPSEC-AH : invalid IPSEC HMAC-MD5 value. Due to fields mutation or bad password !"
        case spi = "IPSEC AH : invalid IPSEC SPI value"
        case replayed = "IPSEC-AH : sequence number already processed. Packet dropped"
    }

    /// The password's 8 bytes, zero-padded.
    public let key: [UInt8]
    public let unicast: Bool
    public private(set) var sequence: UInt32 = 0
    /// keepalived numbers its IP headers itself: the ICV covers the identification.
    private var identification: UInt16 = 0

    public init(password: String, unicast: Bool) {
        key = VRRPAdvertisement(virtualRouterID: 1, priority: 1, advertisementInterval: 1, addresses: [], password: password).authenticationData
        self.unicast = unicast
    }

    /// The packets of one advert, one per destination, each numbered with the advert's sequence.
    public mutating func seal(_ vrrp: [UInt8], from source: UInt32, to destinations: [UInt32]) -> [[UInt8]] {
        // keepalived stops at 0xFFFFFFFD; at one advert a second that is 136 years away.
        if sequence < 0xFFFF_FFFD { sequence += 1 }
        return destinations.map { destination in
            identification = identification == .max ? 1 : identification + 1
            let header = IPv4Header.build(source: source, destination: destination, ipProtocol: IPsecAH.ipProtocol,
                                          payloadLength: IPsecAH.length + vrrp.count, identification: identification)
            return IPsecAH.seal(ipHeader: header, vrrp: vrrp, spi: source, sequence: sequence, key: key, unicast: unicast)
        }
    }

    /// Checks a received advert's header (nil: none came) from `source`; nil when it passes, and
    /// then its sequence number is the counter's.
    public mutating func check(_ header: IPsecAH.Received?, from source: UInt32) -> Failure? {
        guard let header else { return .missing }
        guard IPsecAH.verifies(header, key: key, unicast: unicast) else { return .icv }
        guard header.spi == source else { return .spi }
        guard header.sequence > sequence else { return .replayed }
        sequence = header.sequence
        return nil
    }

    /// A master that hears a lower priority takes the loser's number past its own, as keepalived
    /// does, so that the loser accepts the master's next advert.
    public mutating func followLowerPriority(_ header: IPsecAH.Received?) {
        guard let header else { return }
        sequence = header.sequence == .max ? header.sequence : header.sequence + 1
    }
}
