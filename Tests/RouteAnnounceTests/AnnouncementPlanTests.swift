import DaemonCore
import KeepalivedConfig
import RouteAnnounce
import XCTest

final class AnnouncementPlanTests: XCTestCase {
    private func route(_ text: String) -> AnnouncedRoute {
        AnnouncedRoute(prefix: IPPrefix(address: IPAddress(text)!, length: 32), table: 254, protocolNumber: 250, device: "lo")
    }

    private func at(_ seconds: Double) -> Instant { Instant(seconds: 100 + seconds) }

    func testAnnouncesAfterUpDelayAndWithdrawsAtOnce() {
        let vip = route("10.0.0.100")
        var plan = AnnouncementPlan(servers: [.init(name: "10.0.0.100:80", routes: [vip], upDelay: 3)])
        var down: NotServing? = nil
        var step = plan.evaluate(now: at(0)) { _ in down }
        XCTAssertEqual(step.changes, [])
        XCTAssertEqual(step.next, at(3), "the route waits out up_delay")
        step = plan.evaluate(now: at(2.9)) { _ in down }
        XCTAssertEqual(step.changes, [])
        step = plan.evaluate(now: at(3)) { _ in down }
        XCTAssertEqual(step.changes, [.announce(vip)])
        XCTAssertNil(step.next)
        down = .quorumLost
        step = plan.evaluate(now: at(3.1)) { _ in down }
        XCTAssertEqual(step.changes, [.withdraw(vip, because: "VS 10.0.0.100:80 lost its quorum")], "withdrawal does not wait")
        // A flap shorter than up_delay does not bring the route back.
        down = nil
        _ = plan.evaluate(now: at(4)) { _ in down }
        down = .quorumLost
        XCTAssertEqual(plan.evaluate(now: at(5)) { _ in down }.changes, [])
        down = nil
        step = plan.evaluate(now: at(6)) { _ in down }
        XCTAssertEqual(step.next, at(9), "the wait starts again from the last recovery")
        XCTAssertEqual(plan.evaluate(now: at(9)) { _ in down }.changes, [.announce(vip)])
        XCTAssertEqual(plan.announced, [vip])
    }

    func testSharedRouteNeedsEveryServerAndLongestDelay() {
        let vip = route("10.0.0.100")
        var plan = AnnouncementPlan(servers: [
            .init(name: "10.0.0.100:80", routes: [vip], upDelay: 1),
            .init(name: "10.0.0.100:443", routes: [vip], upDelay: 2),
        ])
        var https: NotServing? = .instanceNotMaster("VI_1")
        XCTAssertEqual(plan.evaluate(now: at(0)) { $0 == 1 ? https : nil }.next, nil)
        https = nil
        XCTAssertEqual(plan.evaluate(now: at(1)) { $0 == 1 ? https : nil }.next, at(3))
        XCTAssertEqual(plan.evaluate(now: at(3)) { $0 == 1 ? https : nil }.changes, [.announce(vip)])
        https = .maintenance
        XCTAssertEqual(plan.evaluate(now: at(4)) { $0 == 1 ? https : nil }.changes,
                       [.withdraw(vip, because: "VS 10.0.0.100:443 maintenance")])
        XCTAssertEqual(plan.owners(of: vip), [0, 1])
    }

    func testReloadKeepsAnnouncedRoutesAndWithdrawsRemovedOnes() {
        let first = route("10.0.0.100"), second = route("10.0.0.101")
        var plan = AnnouncementPlan(servers: [.init(name: "a", routes: [first], upDelay: 0), .init(name: "b", routes: [second], upDelay: 0)])
        XCTAssertEqual(Set(plan.evaluate(now: at(0)) { _ in nil }.changes), [.announce(first), .announce(second)])
        plan.replaceServers([.init(name: "a", routes: [first], upDelay: 5)])
        XCTAssertEqual(plan.evaluate(now: at(1)) { _ in nil }.changes, [.withdraw(second, because: "no longer in the configuration")],
                       "the route that stays is not withdrawn and announced again")
        XCTAssertEqual(plan.announced, [first])
        XCTAssertEqual(plan.evaluate(now: at(2)) { _ in .stopping }.changes, [.withdraw(first, because: "stopping")])
    }
}
