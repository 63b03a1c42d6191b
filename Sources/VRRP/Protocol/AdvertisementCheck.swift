import KeepalivedConfig
import DaemonCore

/// Whether a well-formed advertisement belongs to an instance, as RFC 3768 section 7.1 and
/// keepalived check it. A refusal names its reason so that it can be counted and logged once.
public struct AdvertisementCheck: Sendable {
    public enum Rejection: String, Sendable, CaseIterable {
        case wrongTTL = "TTL is not 255"
        case authenticationTypeMismatch = "authentication type mismatch"
        case authenticationFailure = "authentication failure"
        case intervalMismatch = "advertisement interval mismatch"
        case addressMismatch = "virtual address list mismatch"
    }

    public var authenticationType: VRRPAdvertisement.AuthenticationType
    /// The 8 bytes a simple-text password is sent as.
    public var authenticationData: [UInt8]
    public var advertisementInterval: UInt8
    /// The instance's virtual addresses, sorted, compared with the advert's unless skipped.
    public var addresses: [IPAddress]
    public var checksAddresses: Bool
    /// Multicast adverts must arrive with TTL 255; unicast ones may cross routers.
    public var requiredTTL: UInt8?

    public init(authenticationType: VRRPAdvertisement.AuthenticationType, password: String?, advertisementInterval: UInt8,
                addresses: [IPAddress], checksAddresses: Bool, requiredTTL: UInt8?) {
        self.authenticationType = authenticationType
        self.authenticationData = VRRPAdvertisement(virtualRouterID: 1, priority: 1, advertisementInterval: 1, addresses: [],
                                                    password: password).authenticationData
        self.advertisementInterval = advertisementInterval
        self.addresses = addresses.sorted()
        self.checksAddresses = checksAddresses
        self.requiredTTL = requiredTTL
    }

    /// Nil when the advert may go to the state machine.
    public func rejection(of advert: VRRPAdvertisement, ttl: UInt8) -> Rejection? {
        if let requiredTTL, ttl != requiredTTL { return .wrongTTL }
        guard advert.authenticationType == authenticationType else { return .authenticationTypeMismatch }
        if authenticationType == .simpleText && advert.authenticationData != authenticationData { return .authenticationFailure }
        if advert.advertisementInterval != advertisementInterval { return .intervalMismatch }
        if checksAddresses && advert.addresses.sorted() != addresses { return .addressMismatch }
        return nil
    }
}
