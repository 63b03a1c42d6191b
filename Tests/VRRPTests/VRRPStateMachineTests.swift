import DaemonCore
import KeepalivedConfig
import VRRP
import XCTest

final class VRRPStateMachineTests: XCTestCase {
    private let ours = IPAddress("192.0.2.11")!
    private let lower = IPAddress("192.0.2.10")!
    private let higher = IPAddress("192.0.2.12")!

    private func machine(priority: Int = 100, interval: Double = 1, preempt: Bool = true, preemptDelay: Double = 0,
                         startsAsMaster: Bool = false) -> VRRPStateMachine {
        VRRPStateMachine(settings: .init(name: "VI_1", priority: priority, advertInterval: interval, preempt: preempt,
                                         preemptDelay: preemptDelay, startsAsMaster: startsAsMaster, primaryAddress: ours))
    }

    private func at(_ seconds: Double) -> Instant { Instant(seconds: seconds) }

    func testMasterDownIntervalIsThreeAdvertsPlusSkew() {
        let backup = machine(priority: 99)
        XCTAssertEqual(backup.skewTime, 157.0 / 256, accuracy: 1e-12)
        XCTAssertEqual(backup.masterDownInterval, 3.61328125, accuracy: 1e-12)
    }

    func testBackupTakesOverAfterMasterDownInterval() {
        var vrrp = machine(priority: 99)
        XCTAssertEqual(vrrp.start(now: at(10), faulty: false), [.log("(VI_1) Entering BACKUP STATE (init)"), .notify(.backup)])
        XCTAssertEqual(vrrp.state, .backup)
        XCTAssertEqual(vrrp.nextDeadline, at(10).adding(seconds: 3.61328125))
        XCTAssertEqual(vrrp.timerFired(now: at(13)), [])
        let actions = vrrp.timerFired(now: at(10).adding(seconds: 3.61328125))
        XCTAssertEqual(actions, [.log("(VI_1) Receive advertisement timeout"), .log("(VI_1) Entering MASTER STATE"),
                                 .sendAdvertisement(priority: 99), .takeOwnership, .notify(.master)])
        XCTAssertEqual(vrrp.state, .master)
    }

    func testAdvertsFromAHigherMasterKeepUsBackup() {
        var vrrp = machine(priority: 99)
        _ = vrrp.start(now: at(0), faulty: false)
        for second in 1...10 {
            XCTAssertEqual(vrrp.advertisementReceived(priority: 100, from: lower, now: at(Double(second))), [])
            XCTAssertEqual(vrrp.timerFired(now: at(Double(second) + 0.5)), [])
        }
        XCTAssertEqual(vrrp.nextDeadline, at(10).adding(seconds: vrrp.masterDownInterval))
    }

    func testMasterAdvertisesEveryIntervalWithoutDrift() {
        var vrrp = machine(priority: 255, startsAsMaster: true)
        XCTAssertEqual(vrrp.start(now: at(0), faulty: false).first, .log("(VI_1) Entering MASTER STATE"))
        // Fired 30 ms late each time, the deadlines still fall on whole seconds.
        for second in 1...5 {
            XCTAssertEqual(vrrp.timerFired(now: at(Double(second) + 0.03)), [.sendAdvertisement(priority: 255)])
            XCTAssertEqual(vrrp.nextDeadline, at(Double(second + 1)))
        }
    }

    func testMastersShareAdvertDeadlinesOnAGridOfATwentiethOfTheInterval() {
        // Two masters that came up 3 ms apart, off the grid: their first interval is cut back to
        // the grid (by less than 5%), and from then on they advertise at the same instants.
        var first = machine(priority: 255, startsAsMaster: true)
        var second = machine(priority: 255, startsAsMaster: true)
        _ = first.start(now: at(10.012), faulty: false)
        _ = second.start(now: at(10.015), faulty: false)
        XCTAssertEqual(first.nextDeadline, at(11))
        XCTAssertEqual(second.nextDeadline, at(11))
        for turn in 11...13 {
            XCTAssertEqual(first.timerFired(now: at(Double(turn))), [.sendAdvertisement(priority: 255)])
            XCTAssertEqual(second.timerFired(now: at(Double(turn) + 0.0004)), [.sendAdvertisement(priority: 255)])
            XCTAssertEqual(first.nextDeadline, at(Double(turn + 1)))
            XCTAssertEqual(second.nextDeadline, first.nextDeadline)
        }
        // The grid scales with the interval: 5 ms at 0.1 s. A master that answers another's
        // advert at once starts its next interval on the grid too.
        var fast = machine(priority: 200, interval: 0.1)
        _ = fast.start(now: at(0), faulty: false)
        _ = fast.timerFired(now: fast.nextDeadline!)
        XCTAssertEqual(fast.state, .master)
        XCTAssertEqual(fast.advertisementReceived(priority: 0, from: lower, now: at(3.3333)), [.sendAdvertisement(priority: 200)])
        XCTAssertEqual(fast.nextDeadline, at(3.43))
    }

    func testPriority255WithoutStateMasterStillWaits() {
        var vrrp = machine(priority: 255, startsAsMaster: false)
        _ = vrrp.start(now: at(0), faulty: false)
        XCTAssertEqual(vrrp.state, .backup)
    }

    func testPriorityZeroAdvertShortensTheWaitToSkewTime() {
        var vrrp = machine(priority: 99)
        _ = vrrp.start(now: at(0), faulty: false)
        _ = vrrp.advertisementReceived(priority: 100, from: lower, now: at(1))
        XCTAssertEqual(vrrp.advertisementReceived(priority: 0, from: lower, now: at(2)),
                       [.log("(VI_1) Backup received priority 0 advertisement")])
        XCTAssertEqual(vrrp.nextDeadline, at(2).adding(seconds: 157.0 / 256))
    }

    func testMasterYieldsToAHigherPriority() {
        var vrrp = machine(priority: 100, startsAsMaster: true)
        _ = vrrp.start(now: at(0), faulty: false)
        _ = vrrp.timerFired(now: at(3.7))
        XCTAssertEqual(vrrp.state, .master)
        let actions = vrrp.advertisementReceived(priority: 101, from: lower, now: at(4))
        XCTAssertEqual(actions, [.log("(VI_1) Master received advert from 192.0.2.10 with higher priority 101, ours 100"),
                                 .log("(VI_1) Entering BACKUP STATE"), .releaseOwnership, .notify(.backup)])
        XCTAssertEqual(vrrp.state, .backup)
        XCTAssertNil(vrrp.advertDeadline)
    }

    func testEqualPrioritiesAreBrokenByTheHigherAddress() {
        var vrrp = machine(priority: 100)
        _ = vrrp.start(now: at(0), faulty: false)
        _ = vrrp.timerFired(now: at(4))
        XCTAssertEqual(vrrp.state, .master)
        XCTAssertEqual(vrrp.advertisementReceived(priority: 100, from: lower, now: at(4.5)).dropLast().last, .sendAdvertisement(priority: 100))
        XCTAssertEqual(vrrp.state, .master)
        _ = vrrp.advertisementReceived(priority: 100, from: higher, now: at(5))
        XCTAssertEqual(vrrp.state, .backup)
    }

    func testMasterAnswersALowerPriorityAdvertAtOnce() {
        var vrrp = machine(priority: 100)
        _ = vrrp.start(now: at(0), faulty: false)
        _ = vrrp.timerFired(now: at(4))
        XCTAssertEqual(vrrp.advertisementReceived(priority: 50, from: higher, now: at(4.2)),
                       [.log("(VI_1) Received advert from 192.0.2.12 with lower priority 50, ours 100, forcing new election"),
                        .sendAdvertisement(priority: 100), .reannounce])
        XCTAssertEqual(vrrp.advertDeadline, at(5.2))
    }

    /// Split brain healing, keepalived's options: lower_prio_no_advert keeps the master silent (but
    /// it announces its addresses again), higher_prio_send_advert sends one advert before yielding.
    func testLowerPrioNoAdvertAndHigherPrioSendAdvert() {
        var silent = VRRPStateMachine(settings: {
            var settings = VRRPStateMachine.Settings(name: "VI_1", priority: 100, advertInterval: 1, primaryAddress: ours)
            settings.answersLowerPriority = false
            settings.advertisesBeforeYielding = true
            return settings
        }())
        _ = silent.start(now: at(0), faulty: false)
        _ = silent.timerFired(now: at(4))
        XCTAssertEqual(silent.advertisementReceived(priority: 50, from: higher, now: at(4.2)),
                       [.log("(VI_1) Received advert from 192.0.2.12 with lower priority 50, ours 100"), .reannounce])
        XCTAssertEqual(silent.advertDeadline, at(5), "the advert timer is not moved")
        let yielding = silent.advertisementReceived(priority: 150, from: lower, now: at(4.5))
        XCTAssertEqual(Array(yielding.prefix(2)), [.sendAdvertisement(priority: 100),
                                                   .log("(VI_1) Master received advert from 192.0.2.10 with higher priority 150, ours 100")])
        XCTAssertEqual(silent.state, .backup)
    }

    func testMasterAnswersAPriorityZeroAdvertWithAnAdvert() {
        var vrrp = machine(priority: 100)
        _ = vrrp.start(now: at(0), faulty: false)
        _ = vrrp.timerFired(now: at(4))
        XCTAssertEqual(vrrp.advertisementReceived(priority: 0, from: higher, now: at(4.5)), [.sendAdvertisement(priority: 100)])
    }

    func testPreemptionTakesOverFromALowerPriorityMaster() {
        var vrrp = machine(priority: 150)
        _ = vrrp.start(now: at(0), faulty: false)
        // The lower master's adverts do not reset our timer, so we take over when it runs out.
        for tenth in 1...30 { _ = vrrp.advertisementReceived(priority: 100, from: lower, now: at(Double(tenth) / 10)) }
        XCTAssertEqual(vrrp.nextDeadline, at(0).adding(seconds: vrrp.masterDownInterval))
        _ = vrrp.timerFired(now: at(4))
        XCTAssertEqual(vrrp.state, .master)
    }

    func testNopreemptObeysALowerPriorityMaster() {
        var vrrp = machine(priority: 150, preempt: false)
        _ = vrrp.start(now: at(0), faulty: false)
        for second in 1...20 {
            _ = vrrp.advertisementReceived(priority: 100, from: lower, now: at(Double(second)))
            _ = vrrp.timerFired(now: at(Double(second) + 0.9))
        }
        XCTAssertEqual(vrrp.state, .backup)
    }

    func testPreemptDelayDefersTakingOverFromALowerMaster() {
        var vrrp = machine(priority: 150, preemptDelay: 10)
        _ = vrrp.start(now: at(0), faulty: false)
        // Within the delay the lower master is obeyed.
        for second in 1...9 {
            _ = vrrp.advertisementReceived(priority: 100, from: lower, now: at(Double(second)))
            XCTAssertEqual(vrrp.timerFired(now: at(Double(second) + 0.9)), [])
        }
        // After it, its adverts no longer hold us back.
        for second in 10...12 { _ = vrrp.advertisementReceived(priority: 100, from: lower, now: at(Double(second))) }
        XCTAssertEqual(vrrp.nextDeadline, at(9).adding(seconds: vrrp.masterDownInterval))
        _ = vrrp.timerFired(now: at(9).adding(seconds: vrrp.masterDownInterval))
        XCTAssertEqual(vrrp.state, .master)
    }

    func testPreemptDelayAlsoDelaysTheFirstTakeOver() {
        var vrrp = machine(priority: 128, preemptDelay: 2)
        _ = vrrp.start(now: at(0), faulty: false)
        XCTAssertEqual(vrrp.nextDeadline, at(0).adding(seconds: 3.5 + 2))
    }

    func testFaultAndRecovery() {
        var vrrp = machine(priority: 100, startsAsMaster: true)
        XCTAssertEqual(vrrp.start(now: at(0), faulty: true), [.log("(VI_1) Entering FAULT STATE"), .notify(.fault)])
        XCTAssertEqual(vrrp.advertisementReceived(priority: 50, from: lower, now: at(1)), [])
        XCTAssertEqual(vrrp.faultChanged(faulty: false, now: at(2)), [.log("(VI_1) Entering BACKUP STATE"), .notify(.backup)])
        _ = vrrp.timerFired(now: at(2).adding(seconds: vrrp.masterDownInterval))
        XCTAssertEqual(vrrp.state, .master)
        XCTAssertEqual(vrrp.faultChanged(faulty: true, now: at(9)),
                       [.log("(VI_1) Entering FAULT STATE"), .sendAdvertisement(priority: 0), .releaseOwnership, .notify(.fault)])
        XCTAssertNil(vrrp.nextDeadline)
    }

    func testShutdownOfAMasterSendsPriorityZero() {
        var vrrp = machine(priority: 100)
        _ = vrrp.start(now: at(0), faulty: false)
        _ = vrrp.timerFired(now: at(4))
        XCTAssertEqual(vrrp.stop(), [.sendAdvertisement(priority: 0), .log("(VI_1) sent 0 priority"), .releaseOwnership, .notify(.stopped)])
        XCTAssertEqual(vrrp.state, .stopped)
        var backup = machine()
        _ = backup.start(now: at(0), faulty: false)
        XCTAssertEqual(backup.stop(), [.notify(.stopped)])
    }

    func testTrackedWeightsMovePriorityButNotTheOwners() {
        var vrrp = machine(priority: 100)
        XCTAssertEqual(vrrp.priorityChanged(to: 80), [.log("(VI_1) Changing effective priority from 100 to 80")])
        XCTAssertEqual(vrrp.priority, 80)
        _ = vrrp.priorityChanged(to: 400)
        XCTAssertEqual(vrrp.priority, 254)
        _ = vrrp.priorityChanged(to: -5)
        XCTAssertEqual(vrrp.priority, 1)
        var owner = machine(priority: 255)
        XCTAssertEqual(owner.priorityChanged(to: 200), [])
        XCTAssertEqual(owner.priority, 255)
    }
}

extension VRRPStateMachineTests {
    func testSyncGroupMembersFollowEachOther() {
        var vrrp = machine(priority: 100)
        _ = vrrp.start(now: at(0), faulty: false)
        XCTAssertEqual(vrrp.syncToMaster(now: at(1)), [.log("(VI_1) Entering MASTER STATE"), .sendAdvertisement(priority: 100),
                                                       .takeOwnership, .notify(.master)])
        XCTAssertEqual(vrrp.syncToMaster(now: at(2)), [])
        XCTAssertEqual(vrrp.syncToBackup(now: at(3)), [.log("(VI_1) Entering BACKUP STATE"), .releaseOwnership, .notify(.backup)])
        XCTAssertEqual(vrrp.syncToBackup(now: at(4)), [])
        var faulty = machine()
        _ = faulty.start(now: at(0), faulty: true)
        XCTAssertEqual(faulty.syncToMaster(now: at(1)), [])
    }
}

/// RFC 5798's timers: Skew_Time scales with Master_Adver_Interval, which a backup learns from
/// the master's adverts.
final class VRRPv3StateMachineTests: XCTestCase {
    private let ours = IPAddress("192.0.2.11")!
    private let peer = IPAddress("192.0.2.12")!

    private func machine(priority: Int = 100, interval: Double = 0.1, downTimerAdverts: Int = 3) -> VRRPStateMachine {
        VRRPStateMachine(settings: .init(name: "VI_3", priority: priority, advertInterval: interval, primaryAddress: ours,
                                         version: 3, downTimerAdverts: downTimerAdverts))
    }

    private func at(_ seconds: Double) -> Instant { Instant(seconds: seconds) }

    func testMasterDownIntervalInCentiseconds() {
        let backup = machine(priority: 100)
        XCTAssertEqual(backup.skewTime, 156 * 0.1 / 256, accuracy: 1e-12)
        XCTAssertEqual(backup.masterDownInterval, 0.3 + 156 * 0.1 / 256, accuracy: 1e-12)
        XCTAssertEqual(machine(priority: 100, downTimerAdverts: 5).masterDownInterval, 0.5 + 156 * 0.1 / 256, accuracy: 1e-12)
    }

    func testBackupLearnsTheMastersIntervalAndForgetsItWhenMaster() {
        var vrrp = machine(priority: 100, interval: 0.1)
        _ = vrrp.start(now: at(0), faulty: false)
        XCTAssertEqual(vrrp.advertisementReceived(priority: 150, from: peer, interval: 0.5, now: at(0.2)), [])
        XCTAssertEqual(vrrp.masterAdvertInterval, 0.5)
        XCTAssertEqual(vrrp.masterDownInterval, 1.5 + 156 * 0.5 / 256, accuracy: 1e-12)
        XCTAssertEqual(vrrp.nextDeadline, at(0.2).adding(seconds: 1.5 + 156 * 0.5 / 256))
        // The master stops: we take over and advertise at our own interval.
        let deadline = vrrp.nextDeadline!
        XCTAssertEqual(vrrp.timerFired(now: deadline).prefix(2), [.log("(VI_3) Receive advertisement timeout"), .log("(VI_3) Entering MASTER STATE")])
        // The next advert: one interval on, brought back to the 5 ms grid.
        XCTAssertEqual(vrrp.nextDeadline, Instant(nanoseconds: deadline.adding(seconds: 0.1).nanoseconds / 5_000_000 * 5_000_000))
        // A higher master's advert sends us back, following its interval.
        _ = vrrp.advertisementReceived(priority: 200, from: peer, interval: 0.3, now: at(5))
        XCTAssertEqual(vrrp.state, .backup)
        XCTAssertEqual(vrrp.masterAdvertInterval, 0.3)
        XCTAssertEqual(vrrp.nextDeadline, at(5).adding(seconds: 0.9 + 156 * 0.3 / 256))
    }

    func testLowerPriorityAdvertsDoNotTeachAPreemptingBackup() {
        var vrrp = machine(priority: 100, interval: 0.1)
        _ = vrrp.start(now: at(0), faulty: false)
        _ = vrrp.advertisementReceived(priority: 50, from: peer, interval: 2, now: at(0.1))
        XCTAssertEqual(vrrp.masterAdvertInterval, 0.1)
    }

    func testVersion2NeverLearns() {
        var vrrp = VRRPStateMachine(settings: .init(name: "VI_2", priority: 100, advertInterval: 1, primaryAddress: ours))
        _ = vrrp.start(now: at(0), faulty: false)
        _ = vrrp.advertisementReceived(priority: 150, from: peer, interval: 3, now: at(0.5))
        XCTAssertEqual(vrrp.masterAdvertInterval, 1)
        XCTAssertEqual(vrrp.skewTime, 156.0 / 256, accuracy: 1e-12)
    }
}
