import Foundation
import XCTest

/// `auth_type AH` (VRRPv2 with an IPsec Authentication Header) between lab namespaces, Debian's
/// keepalived as the peer in both roles: each accepts the other's adverts (a refused one would
/// make the backup master within its 3.6 s Master_Down_Interval), and a wrong password is
/// refused by both.
final class AuthenticationHeaderLabTests: LabTestCase {
    private let vip = "192.0.2.200"

    private func config(state: String, priority: Int, password: String = "s3cret") -> String {
        """
        vrrp_instance VI_1 {
            state \(state)
            interface lan0
            virtual_router_id 51
            priority \(priority)
            advert_int 1
            authentication {
                auth_type AH
                auth_pass \(password)
            }
            virtual_ipaddress {
                \(vip)
            }
        }

        """
    }

    func testKeepalivedAndOursAcceptEachOthersAdvertsInBothRoles() throws {
        lab = try Lab(directors: 2)
        var theirs = try lab.start(.keepalived, on: "d2", config: config(state: "MASTER", priority: 150))
        lab.wait(upTo: 8, for: "keepalived to hold the VIP") { lab.holders(of: vip) == ["d2"] }
        let ours = try lab.start(.ours, on: "d1", config: config(state: "BACKUP", priority: 100))
        waitForLog(ours, "(VI_1) Entering BACKUP STATE")
        assertOnlyHolder("d2", for: 5, "our backup accepts keepalived's AH adverts")
        XCTAssertFalse(ours.log.contains("IPSEC"), ours.log)

        // keepalived leaves (its priority-0 advert, authenticated too): ours takes over at once.
        theirs.kill(SIGTERM)
        XCTAssertTrue(theirs.waitForExit(timeout: 10))
        let tookOver = lab.wait(upTo: 2, for: "ours to take over") { lab.holders(of: vip) == ["d1"] }
        XCTAssertLessThan(tookOver ?? 9, 1.5, "a priority-0 advert is acted on at once")
        let capture = try AdvertCapture(lab: lab, node: "d1", ipProtocol: 51)
        // A new keepalived starts its counter at 0 and must accept our numbers (past keepalived's).
        theirs = try lab.start(.keepalived, on: "d2", config: config(state: "BACKUP", priority: 50))
        waitForLog(theirs, "(VI_1) Entering BACKUP STATE")
        assertOnlyHolder("d1", for: 5, "keepalived's backup accepts our AH adverts")
        capture.stop()
        XCTAssertGreaterThanOrEqual(capture.times.count, 4, "our adverts leave as IP protocol 51")
        XCTAssertFalse(theirs.log.contains("IPSEC"), theirs.log)
        XCTAssertFalse(theirs.log.contains("Entering MASTER STATE"), theirs.log)
    }

    func testAWrongPasswordIsRefusedByBoth() throws {
        lab = try Lab(directors: 2)
        let ours = try lab.start(.ours, on: "d1", config: config(state: "MASTER", priority: 100))
        lab.wait(upTo: 6, for: "ours to hold the VIP") { lab.holders(of: vip) == ["d1"] }
        let theirs = try lab.start(.keepalived, on: "d2", config: config(state: "BACKUP", priority: 150, password: "other"))
        waitForLog(theirs, "IPSEC-AH : invalid IPSEC HMAC-MD5 value")
        waitForLog(ours, "IPSEC-AH : invalid IPSEC HMAC-MD5 value")
        lab.wait(upTo: 8, for: "both to hold the VIP") { lab.holders(of: vip) == ["d1", "d2"] }
        XCTAssertTrue(ours.log.contains("(VI_1) Entering MASTER STATE"), ours.log)
    }
}
