import HealthCheck
import XCTest

final class CheckerStateTests: XCTestCase {
    func testAServerThatIsUpIsRetriedBeforeItIsDeclaredDown() {
        var state = CheckerState(isUp: true, retry: 2)
        XCTAssertEqual(state.record(success: false).next, .afterRetryDelay)
        XCTAssertEqual(state.record(success: false).next, .afterRetryDelay)
        let third = state.record(success: false)
        XCTAssertEqual(third.transition, .wentDown(retries: 2))
        XCTAssertEqual(third.next, .afterDelayLoop)
        XCTAssertFalse(state.isUp)
    }

    func testOneSuccessBetweenFailuresStartsTheCountAgain() {
        var state = CheckerState(isUp: true, retry: 1)
        XCTAssertEqual(state.record(success: false).next, .afterRetryDelay)
        XCTAssertNil(state.record(success: true).transition)
        XCTAssertEqual(state.record(success: false).next, .afterRetryDelay)
        XCTAssertEqual(state.record(success: false).transition, .wentDown(retries: 1))
    }

    func testADownServerComesBackWithOneSuccessAndIsNotRetriedWhileDown() {
        var state = CheckerState(isUp: false, retry: 3)
        XCTAssertEqual(state.record(success: false).next, .afterDelayLoop)
        let back = state.record(success: true)
        XCTAssertEqual(back.transition, .wentUp)
        XCTAssertTrue(state.isUp)
        XCTAssertNil(state.record(success: true).transition)
    }

    func testNoRetriesMeansTheFirstFailureCounts() {
        var state = CheckerState(isUp: true, retry: 0)
        XCTAssertEqual(state.record(success: false).transition, .wentDown(retries: 0))
    }
}
