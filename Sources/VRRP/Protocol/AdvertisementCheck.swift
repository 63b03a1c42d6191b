import KeepalivedConfig
import DaemonCore

/// Whether a well-formed advertisement belongs to an instance, as RFC 3768 section 7.1, RFC 5798
/// section 7.1 and keepalived check it. A refusal names its reason so that it can be counted and
/// logged once.
public struct AdvertisementCheck: Sendable {
    public enum Rejection: String, Sendable, CaseIterable {
        case wrongTTL = "TTL is not 255"
        case wrongVersion = "VRRP version mismatch"
        case checksumKind = "checksum computed another way (v3_checksum_as_v2 differs)"
        case authenticationTypeMismatch = "authentication type mismatch"
        case authenticationFailure = "authentication failure"
        case intervalMismatch = "advertisement interval mismatch"
        case addressMismatch = "virtual address list mismatch"
    }

    /// 2 or 3.
    public var version: UInt8
    public var authenticationType: VRRPAdvertisement.AuthenticationType
    /// The 8 bytes a simple-text password is sent as.
    public var authenticationData: [UInt8]
    /// Ours, in the version's unit (seconds for 2, centiseconds for 3).
    public var advertisementInterval: UInt16
    /// The instance's virtual addresses, sorted, compared with the advert's unless skipped.
    public var addresses: [IPAddress]
    public var checksAddresses: Bool
    /// Multicast adverts must arrive with TTL 255; unicast ones may cross routers.
    public var requiredTTL: UInt8?
    /// Version 3 over IPv4: whether the peers' checksums cover the pseudo-header (false under
    /// `v3_checksum_as_v2`).
    public var checksumCoversPseudoHeader: Bool

    public init(version: UInt8 = 2, authenticationType: VRRPAdvertisement.AuthenticationType, password: String?,
                advertisementInterval: UInt16, addresses: [IPAddress], checksAddresses: Bool, requiredTTL: UInt8?,
                checksumCoversPseudoHeader: Bool = true) {
        self.version = version
        self.authenticationType = authenticationType
        self.authenticationData = VRRPAdvertisement(virtualRouterID: 1, priority: 1, advertisementInterval: 1, addresses: [],
                                                    password: password).authenticationData
        self.advertisementInterval = advertisementInterval
        self.addresses = addresses.sorted()
        self.checksAddresses = checksAddresses
        self.requiredTTL = requiredTTL
        self.checksumCoversPseudoHeader = checksumCoversPseudoHeader
    }

    /// Nil when the advert may go to the state machine.
    public func rejection(of advert: VRRPAdvertisement, ttl: UInt8) -> Rejection? {
        if let requiredTTL, ttl != requiredTTL { return .wrongTTL }
        guard advert.version == version else { return .wrongVersion }
        if version == 3 {
            if advert.checksumCoversPseudoHeader != checksumCoversPseudoHeader { return .checksumKind }
        } else {
            guard advert.authenticationType == authenticationType else { return .authenticationTypeMismatch }
            if authenticationType == .simpleText && advert.authenticationData != authenticationData { return .authenticationFailure }
            // RFC 3768 refuses another interval; RFC 5798 lets a backup learn the master's.
            if advert.advertisementInterval != advertisementInterval { return .intervalMismatch }
        }
        if checksAddresses && advert.addresses.sorted() != addresses { return .addressMismatch }
        return nil
    }

    /// A version 3 advert with another interval than ours: accepted, and worth one log line.
    public func differsInInterval(_ advert: VRRPAdvertisement) -> Bool {
        advert.version == 3 && advert.advertisementInterval != advertisementInterval
    }
}
