@testable import VRRP
import DaemonCore
import KeepalivedConfig
import Foundation
import XCTest

/// keepalived 2.2.7's layouts of keepalived.data, keepalived.stats and keepalived.json, and the
/// counters behind them.
final class StateFileLayoutTests: XCTestCase {
    private func report(name: String = "VI_1", state: String = "MASTER", vrid: Int = 51,
                        counters: VRRPCounters = VRRPCounters(), details: VRRPInstanceDetails = VRRPInstanceDetails()) -> VRRPInstanceReport {
        var report = VRRPInstanceReport(name: name, state: state, interface: "lan0", virtualRouterID: vrid, configuredPriority: 100,
                                        effectivePriority: 100, virtualAddresses: ["192.0.2.200"], advertisementsReceived: 0,
                                        advertisementsSent: 0, priorityZeroReceived: 0, priorityZeroSent: 0, gratuitousARPsSent: 0,
                                        sendErrors: 0, rejected: [:])
        report.counters = counters
        report.details = details
        return report
    }

    private var masterDetails: VRRPInstanceDetails {
        var details = VRRPInstanceDetails()
        details.wantState = "MASTER"
        details.lastTransition = 1_795_915_735.661346
        details.readTimeout = 1_795_915_737.5
        details.masterDownTimerMicroseconds = 3_609_375
        details.sourceAddress = "192.0.2.11"
        details.authenticationType = 1
        details.password = "1111"
        details.virtualAddresses = ["192.0.2.200 dev lan0 scope global set", "192.0.2.201/24 dev lan0 scope global set"]
        details.trackedScripts = [.init(name: "chk", weight: 0, command: "'/usr/bin/true'")]
        details.addressesSet = true
        details.socketDescriptor = 12
        return details
    }

    // MARK: keepalived.stats

    func testStatsAreKeepalivedsLayoutWithItsCounters() {
        var counters = VRRPCounters()
        counters.advertisementsReceived = 11
        counters.advertisementsSent = 12
        counters.becameMaster = 2
        counters.releasedMaster = 1
        counters.packetLengthErrors = 3
        counters.ttlErrors = 4
        counters.invalidTypeReceived = 5
        counters.advertisementIntervalErrors = 6
        counters.addressListErrors = 7
        counters.invalidAuthenticationType = 8
        counters.authenticationTypeMismatch = 9
        counters.authenticationFailures = 10
        counters.priorityZeroReceived = 13
        counters.priorityZeroSent = 14
        let text = VRRPStateFiles.stats([report(counters: counters), report(name: "VI_2")])
        XCTAssertTrue(text.hasPrefix("""
        VRRP Instance: VI_1
          Advertisements:
            Received: 11
            Sent: 12
          Became master: 2
          Released master: 1
          Packet Errors:
            Length: 3
            TTL: 4
            Invalid Type: 5
            Advertisement Interval: 6
            Address List: 7
          Authentication Errors:
            Invalid Type: 8
            Type Mismatch: 9
            Failure: 10
          Priority Zero:
            Received: 13
            Sent: 14
        VRRP Instance: VI_2
          Advertisements:
            Received: 0

        """), text)
        XCTAssertEqual(text.split(separator: "\n").count, 2 * 19)
    }

    // MARK: keepalived.json

    func testJSONHasKeepalivedsKeysInItsOrderWithItsStateNumbers() {
        var backup = VRRPInstanceDetails()
        backup.wantState = "BACKUP"
        backup.masterPriority = 200
        backup.virtualAddresses = ["192.0.2.210 dev lan0 scope global"]
        let json = VRRPStateFiles.json([report(details: masterDetails), report(name: "VI_2", state: "BACKUP", vrid: 52, details: backup)])
        XCTAssertTrue(json.hasPrefix("""
        [{"data":{"iname":"VI_1","dont_track_primary":0,"skip_check_adv_addr":0,"strict_mode":0,"vmac_ifname":"","ifp_ifname":"lan0",\
        "master_priority":0,"last_transition":1795915735.661346,"garp_delay":5,"garp_refresh":0,"garp_rep":5,"garp_refresh_rep":1,\
        "garp_lower_prio_delay":5,"garp_lower_prio_rep":5,"lower_prio_no_advert":0,"higher_prio_send_advert":0,"vrid":51,\
        "base_priority":100,"effective_priority":100,"vipset":true,"promote_secondaries":false,"adver_int":1,"master_adver_int":1,\
        "accept":1,"nopreempt":false,"preempt_delay":0,"state":2,"wantstate":2,"version":2,"smtp_alert":false,"notify_deleted":false,\
        "vips":["192.0.2.200 dev lan0 scope global set","192.0.2.201/24 dev lan0 scope global set"],"track_script":["'/usr/bin/true'"],\
        "auth_type":1,"auth_data":"1111"},"stats":{"advert_rcvd":0,"advert_sent":0,"become_master":0,"release_master":0,\
        "packet_len_err":0,"advert_interval_err":0,"ip_ttl_err":0,"invalid_type_rcvd":0,"addr_list_err":0,"invalid_authtype":0,\
        "authtype_mismatch":0,"auth_failure":0,"pri_zero_rcvd":0,"pri_zero_sent":0}},
        """), json)
        // Without authentication there is no auth_data; a backup shows its master's priority.
        XCTAssertTrue(json.contains(#""iname":"VI_2""#) && json.contains(#""master_priority":200"#), json)
        XCTAssertTrue(json.contains(#""state":1,"wantstate":1"#), json)
        XCTAssertTrue(json.contains(#""vips":["192.0.2.210 dev lan0 scope global"],"auth_type":0}"#), json)
        XCTAssertTrue(json.hasSuffix("}}]"), json)
    }

    func testJSONWritesNotifyScriptsAndListsOnlyWhenConfigured() {
        var details = VRRPInstanceDetails()
        details.notifyScripts = [.init(kind: "Master", jsonKey: "script_master", command: "'/etc/keepalived/up.sh' 'x'"),
                                 .init(kind: "Generic", jsonKey: "script", command: "'/n.sh'")]
        details.trackedInterfaces = [.init(name: "eth1", weight: -10)]
        details.advertInterval = 0.5
        let json = VRRPStateFiles.json([report(details: details)])
        XCTAssertTrue(json.contains(#""script_master":"'/etc/keepalived/up.sh' 'x'","script":"'/n.sh'","track_ifp":["eth1"]"#), json)
        XCTAssertTrue(json.contains(#""adver_int":0.5"#), json)
        XCTAssertFalse(json.contains("\"vips\"") || json.contains("\"evips\"") || json.contains("\"track_script\""), json)
    }

    func testStateNumbersAreKeepaliveds() {
        XCTAssertEqual(["INIT", "BACKUP", "MASTER", "FAULT", "STOP"].map(VRRPStateFiles.stateNumber), [0, 1, 2, 3, 98])
    }

    func testJSONStringsAreEscaped() {
        XCTAssertEqual(KeepalivedJSON.string("a\"b\\c\nd\u{1}").text, #""a\"b\\c\nd\u0001""#)
        XCTAssertEqual(KeepalivedJSON.float(5).text, "5")
        XCTAssertEqual(KeepalivedJSON.float(1.5).text, "1.5")
    }

    // MARK: keepalived.data

    func testDataHasTheLinesExportersParse() {
        var backup = VRRPInstanceDetails()
        backup.masterRouter = "192.0.2.12"
        backup.masterPriority = 200
        backup.virtualAddresses = ["192.0.2.210 dev lan0 scope global"]
        backup.excludedAddresses = ["192.0.2.220 dev lan0 scope global"]
        let script = VRRPScriptReport(name: "chk", command: "'/usr/bin/true'", interval: 1, timeout: 0, weight: 0, weightReverse: false,
                                      rise: 1, fall: 1, good: true, running: false, trackingInstances: [.init(name: "VI_1", weight: 0)])
        let text = VRRPStateFiles.data([report(details: masterDetails), report(name: "VI_2", state: "BACKUP", vrid: 52, details: backup)],
                                       scripts: [script])
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "------< VRRP Topology >------")
        for line in [" VRRP Instance = VI_1", "   State = MASTER", "   Wantstate = MASTER", "   Interface = lan0",
                     "   Gratuitous ARP delay = 5", "   Virtual Router ID = 51", "   Virtual IP (2):",
                     "     192.0.2.200 dev lan0 scope global set", "     192.0.2.201/24 dev lan0 scope global set",
                     "   Authentication type = SIMPLE_PASSWORD", "   Password = 1111", "   Tracked scripts :", "     chk weight 0",
                     "   Master down timer = 3609375 usecs", "   fd_in 12, fd_out 12", "   Advert interval = 1 sec",
                     " VRRP Instance = VI_2", "   State = BACKUP", "   Master router = 192.0.2.12", "   Master priority = 200",
                     "   Wantstate = BACKUP", "   Virtual IP Excluded :", "     192.0.2.220 dev lan0 scope global",
                     "   Authentication type = none", "   No sockets allocated",
                     "------< VRRP Sockpool >------", " fd_in 12 fd_out = 12", "     VI_1 vrid 51",
                     "------< VRRP Scripts >------", " VRRP Script = chk", "   Command = '/usr/bin/true'", "   Status = GOOD",
                     "   State = idle", "     VI_1, weight 0"] {
            XCTAssertTrue(lines.contains(line), "missing '\(line)' in\n\(text)")
        }
        XCTAssertTrue(lines.contains { $0.hasPrefix("   Last transition = 1795915735.661346 (") && $0.hasSuffix(".661346 2026)") }, text)
        XCTAssertTrue(lines.contains { $0.hasPrefix("   Read timeout = 1795915737.500000 (") }, text)
        // Every line of an instance is `   Key = value`, `   Key: value`, a value under a key, or has no separator.
        let vi1 = lines.drop { $0 != " VRRP Instance = VI_1" }.dropFirst().prefix { !$0.hasPrefix(" VRRP Instance") }
        XCTAssertTrue(vi1.allSatisfy { $0.hasPrefix("   ") }, text)
    }

    func testSyncGroupsHaveTheirOwnSection() {
        let group = VRRPSyncGroupReport(name: "G1", state: "MASTER", members: ["VI_1", "VI_2"], faultyMembers: 0, smtpAlert: false,
                                        trackedInterfaces: [], trackedScripts: [.init(name: "chk", weight: 10)],
                                        notifyScripts: [.init(kind: "Master", jsonKey: "script_master", command: "'/up.sh'")])
        let text = VRRPStateFiles.data([report()], scripts: [], syncGroups: [group])
        XCTAssertTrue(text.contains("""
        ------< VRRP Sync groups >------
         VRRP Sync Group = G1, MASTER
           Num member fault 0, num member init 0
           VRRP member instances :
             VI_1
             VI_2
           Using smtp notification = no
           Tracked scripts :
             chk weight 10
           Master state transition script = '/up.sh', uid:gid 0:0

        """), text)
    }

    func testGlobalDefinitionsComeFirstWithKeepalivedsDefaults() {
        var globals = GlobalDefinitions()
        globals.routerID = "lb1"
        globals.vrrpGarpMasterDelay = 2
        let lines = VRRPStateFiles.data([], scripts: [], globals: globals).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "------< Global definitions >------")
        for line in [" Router ID = lb1", " Gratuitous ARP delay = 2", " Gratuitous ARP lower priority delay = 2",
                     " Gratuitous ARP repeat = 5", " VRRP IPv4 mcast group = 224.0.0.18", " Gratuitous ARP interval = 0.000000",
                     " VRRP strict mode = false", " Script security disabled", " umask = 0177"] {
            XCTAssertTrue(lines.contains(line), "missing '\(line)' in \(lines)")
        }
        XCTAssertEqual(lines.last, " umask = 0177", "no sections for instances, sockets or scripts that are not there")
    }

    func testTimesAreWrittenAsCWritesThem() {
        XCTAssertEqual(WallClock.timevalText(12.000005), "12.000005")
        XCTAssertEqual(WallClock.timevalText(1_795_915_735.661346), "1795915735.661346")
        let text = WallClock.ctimeText(1_795_915_735.661346)
        XCTAssertEqual(text.count, "Sun Nov 29 01:28:55.661346 2026".count, text)
        XCTAssertTrue(text.hasSuffix(".661346 2026"), text)
    }

    func testCommandsAreQuotedArgumentByArgument() {
        XCTAssertEqual(keepalivedCommandText("/etc/keepalived/notify.sh \"a b\" c"), "'/etc/keepalived/notify.sh' 'a b' 'c'")
    }

    // MARK: Counters

    func testRefusedAdvertsAreCountedUnderKeepalivedsCounters() {
        var counters = VRRPCounters()
        for rejection in AdvertisementCheck.Rejection.allCases { counters.count(rejection) }
        XCTAssertEqual(counters.ttlErrors, 1)
        XCTAssertEqual(counters.authenticationTypeMismatch, 1)
        XCTAssertEqual(counters.authenticationFailures, 1)
        XCTAssertEqual(counters.advertisementIntervalErrors, 1)
        XCTAssertEqual(counters.addressListErrors, 1)
        // keepalived counts an advert as received before it compares the address list.
        XCTAssertEqual(counters.advertisementsReceived, 1)
        counters.count(.addressMismatch, addressCountMatches: false)
        XCTAssertEqual(counters.addressListErrors, 2)
        XCTAssertEqual(counters.advertisementsReceived, 1, "a wrong address count is refused before the advert counts")

        counters = VRRPCounters()
        for error: VRRPAdvertisement.DecodeError in [.tooShort(length: 3), .lengthMismatch(addressCount: 2, length: 20), .badType(2),
                                                    .unknownAuthenticationType(7), .badVersion(3), .badChecksum] {
            counters.count(error)
        }
        XCTAssertEqual(counters.packetLengthErrors, 2)
        XCTAssertEqual(counters.invalidTypeReceived, 1)
        XCTAssertEqual(counters.invalidAuthenticationType, 1)
        XCTAssertEqual(counters.keepalivedFields.map(\.value).reduce(0, +), 4)
    }

    func testCountersEncodeUnderKeepalivedsNames() throws {
        var counters = VRRPCounters()
        counters.priorityZeroSent = 3
        let text = String(decoding: try JSONEncoder().encode(counters), as: UTF8.self)
        XCTAssertTrue(text.contains(#""pri_zero_sent":3"#), text)
        XCTAssertEqual(Set(counters.keepalivedFields.map(\.name)),
                       ["advert_rcvd", "advert_sent", "become_master", "release_master", "packet_len_err", "advert_interval_err",
                        "ip_ttl_err", "invalid_type_rcvd", "addr_list_err", "invalid_authtype", "authtype_mismatch", "auth_failure",
                        "pri_zero_rcvd", "pri_zero_sent"])
    }
}
