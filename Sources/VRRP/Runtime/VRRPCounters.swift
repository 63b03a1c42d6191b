/// keepalived's VRRP counters of one instance (its `vrrp_stats`), counted where keepalived counts
/// them; keepalived.stats, keepalived.json and metrics read them. The coding keys are keepalived's
/// JSON names.
public struct VRRPCounters: Sendable, Codable, Equatable {
    /// Adverts that passed the length, TTL, authentication, interval and type checks (those
    /// refused afterwards for their address list are counted here too, as keepalived does).
    public var advertisementsReceived = 0
    public var advertisementsSent = 0
    public var becameMaster = 0
    /// Left MASTER for BACKUP or FAULT (a stop is not counted, as in keepalived).
    public var releasedMaster = 0
    public var packetLengthErrors = 0
    /// VRRPv2 adverts with another interval (keepalived drops them without counting).
    public var advertisementIntervalErrors = 0
    public var ttlErrors = 0
    public var invalidTypeReceived = 0
    public var addressListErrors = 0
    public var invalidAuthenticationType = 0
    public var authenticationTypeMismatch = 0
    public var authenticationFailures = 0
    public var priorityZeroReceived = 0
    public var priorityZeroSent = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case advertisementsReceived = "advert_rcvd"
        case advertisementsSent = "advert_sent"
        case becameMaster = "become_master"
        case releasedMaster = "release_master"
        case packetLengthErrors = "packet_len_err"
        case advertisementIntervalErrors = "advert_interval_err"
        case ttlErrors = "ip_ttl_err"
        case invalidTypeReceived = "invalid_type_rcvd"
        case addressListErrors = "addr_list_err"
        case invalidAuthenticationType = "invalid_authtype"
        case authenticationTypeMismatch = "authtype_mismatch"
        case authenticationFailures = "auth_failure"
        case priorityZeroReceived = "pri_zero_rcvd"
        case priorityZeroSent = "pri_zero_sent"
    }

    /// keepalived's JSON names and values, in the order keepalived writes them.
    public var keepalivedFields: [(name: String, value: Int)] {
        [(CodingKeys.advertisementsReceived.rawValue, advertisementsReceived),
         (CodingKeys.advertisementsSent.rawValue, advertisementsSent),
         (CodingKeys.becameMaster.rawValue, becameMaster),
         (CodingKeys.releasedMaster.rawValue, releasedMaster),
         (CodingKeys.packetLengthErrors.rawValue, packetLengthErrors),
         (CodingKeys.advertisementIntervalErrors.rawValue, advertisementIntervalErrors),
         (CodingKeys.ttlErrors.rawValue, ttlErrors),
         (CodingKeys.invalidTypeReceived.rawValue, invalidTypeReceived),
         (CodingKeys.addressListErrors.rawValue, addressListErrors),
         (CodingKeys.invalidAuthenticationType.rawValue, invalidAuthenticationType),
         (CodingKeys.authenticationTypeMismatch.rawValue, authenticationTypeMismatch),
         (CodingKeys.authenticationFailures.rawValue, authenticationFailures),
         (CodingKeys.priorityZeroReceived.rawValue, priorityZeroReceived),
         (CodingKeys.priorityZeroSent.rawValue, priorityZeroSent)]
    }

    /// A refused advert, counted under keepalived's counter for its reason. keepalived refuses
    /// a wrong number of addresses before it counts the advert as received, and other address
    /// lists after.
    mutating func count(_ rejection: AdvertisementCheck.Rejection, addressCountMatches: Bool = true) {
        switch rejection {
        case .wrongTTL: ttlErrors += 1
        case .wrongVersion, .checksumKind: break
        case .authenticationTypeMismatch: authenticationTypeMismatch += 1
        case .authenticationFailure: authenticationFailures += 1
        case .intervalMismatch: advertisementIntervalErrors += 1
        case .addressMismatch:
            if addressCountMatches { advertisementsReceived += 1 }
            addressListErrors += 1
        }
    }

    /// A packet for this instance's VRID that is not a well-formed advert. A bad version or
    /// checksum has no counter of its own in keepalived's files.
    mutating func count(_ error: VRRPAdvertisement.DecodeError) {
        switch error {
        case .tooShort, .lengthMismatch: packetLengthErrors += 1
        case .badType: invalidTypeReceived += 1
        case .unknownAuthenticationType: invalidAuthenticationType += 1
        case .badVersion, .badChecksum: break
        }
    }
}
