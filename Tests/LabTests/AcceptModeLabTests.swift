import Foundation
import XCTest

/// Accept mode: with `no_accept` a master that is not the address owner drops traffic to its VIPs
/// (nftables table inet swiftkeepalived); with `accept`, or as the owner, it answers.
final class AcceptModeLabTests: LabTestCase {
    private let vip = "192.0.2.200"

    private func pings() -> Bool {
        ((try? lab.exec("s1", ["ping", "-c", "1", "-W", "1", vip]))?.status ?? 1) == 0
    }

    /// The table as `nft list` shows it, nil when there is none.
    private func table() -> String? {
        guard let result = try? lab.exec("d1", ["nft", "list", "table", "inet", "swiftkeepalived"]), result.status == 0 else { return nil }
        return result.output
    }

    private func holds() -> Bool { lab.addresses("d1").contains(vip) }

    func testNoAcceptDropsTrafficToTheVIPsOfANonOwnerMaster() throws {
        lab = try Lab(directors: 1, servers: 1)
        let dropping = try lab.start(.ours, on: "d1", config: Lab.vrrpInstance(state: "MASTER", priority: 100, extra: "no_accept"))
        lab.wait(upTo: 6, for: "d1 to hold the VIP") { holds() }
        XCTAssertFalse(pings(), "a no_accept master that is not the owner drops traffic to its VIP")
        XCTAssertTrue(table()?.contains("elements = { \(vip) }") ?? false, table() ?? "no table")
        XCTAssertTrue(dropping.log.contains("no_accept: masters that are not the address owner drop traffic to their VIPs"), dropping.log)

        // A reload to accept mode lets the traffic through, keeping the VIP.
        try Lab.vrrpInstance(state: "MASTER", priority: 100, extra: "accept").write(toFile: dropping.configPath, atomically: true, encoding: .utf8)
        dropping.kill(SIGHUP)
        lab.wait(upTo: 5, for: "the VIP to answer after the reload to accept mode") { pings() }
        XCTAssertTrue(holds())
        XCTAssertNil(table(), "no instance needs the table any more")
        // And back: the running master drops again, through a table made anew before it adopts.
        try Lab.vrrpInstance(state: "MASTER", priority: 100, extra: "no_accept").write(toFile: dropping.configPath, atomically: true, encoding: .utf8)
        dropping.kill(SIGHUP)
        lab.wait(upTo: 5, for: "the VIP to stop answering after the reload to no_accept") { !pings() }
        XCTAssertTrue(table()?.contains("elements = { \(vip) }") ?? false, table() ?? "no table")
        dropping.kill(SIGTERM)
        XCTAssertTrue(dropping.waitForExit(timeout: 2))

        // The address owner always accepts; the table is deleted at stop.
        let owner = try lab.start(.ours, on: "d1", config: Lab.vrrpInstance(state: "MASTER", priority: 255, extra: "no_accept"))
        lab.wait(upTo: 6, for: "the owner to hold the VIP") { holds() }
        XCTAssertTrue(pings(), "the address owner answers whatever accept mode says")
        owner.kill(SIGTERM)
        XCTAssertTrue(owner.waitForExit(timeout: 2))

        let again = try lab.start(.ours, on: "d1", config: Lab.vrrpInstance(state: "MASTER", priority: 100, extra: "no_accept"))
        lab.wait(upTo: 6, for: "d1 to hold the VIP") { holds() }
        XCTAssertFalse(pings())
        again.kill(SIGTERM)
        XCTAssertTrue(again.waitForExit(timeout: 2))
        XCTAssertNil(table(), "SIGTERM deletes the table")
    }
}
