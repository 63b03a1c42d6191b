import Foundation
import XCTest

/// announce_route with real routing daemons: three directors (two with BIRD 2, one with FRR)
/// announce the VIP by BGP to a router (BIRD) that spreads new connections over them by ECMP
/// (Scripts/scaleout-lab test; the lab is described there).
extension IPVSKernelTests {
    func testScaleOutThroughBIRD() throws {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: "/usr/sbin/bird"), "BIRD 2 is not installed (Scripts/setup installs bird2)")
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: "/usr/lib/frr/bgpd"), "FRR is not installed (Scripts/setup installs frr)")
        let (results, output) = try labResults("Scripts/scaleout-lab", ["--experiment", "test"])

        let spread = try XCTUnwrap(results["spread"], output)
        XCTAssertEqual(spread["nexthops"], "d1,d2,d3", output)
        XCTAssertEqual(spread["routing"], "d1:bird,d2:bird,d3:frr", "both routing daemons' examples announce\n\(output)")
        XCTAssertEqual(spread["failed"], "0", output)
        let connections = (spread["conns"] ?? "").split(separator: ",").compactMap { Int($0.split(separator: ":").last ?? "") }
        XCTAssertEqual(connections.count, 3, output)
        for count in connections {
            XCTAssertGreaterThan(count, (Int(spread["requests"] ?? "") ?? 0) / 10, "every director carries its share of new connections\n\(output)")
        }

        // The state in keepalived_check.data (SIGUSR1) and /metrics.
        XCTAssertEqual(results["state"]?["dump_announced"], "1", output)
        XCTAssertEqual(results["state"]?["metric_announced"], "1", output)

        // delay_loop 1, retry 1: the route leaves the router within delay_loop x (retry + 1) + 1 s.
        let fail = try XCTUnwrap(results["fail"], output)
        let withdrawn = try XCTUnwrap(Double(fail["withdrawn_after"] ?? ""), "d1's route never left the router\n\(output)")
        XCTAssertLessThanOrEqual(withdrawn, 3.0, output)
        XCTAssertEqual(fail["failed_after_withdrawal"], "0", "no request started after the withdrawal fails\n\(output)")
        XCTAssertGreaterThan(Int(fail["served"] ?? "") ?? 0, 20, output)
        XCTAssertEqual(fail["d1_routes"], "none", output)
        XCTAssertNotNil(Double(results["fail-recovered"]?["announced_after"] ?? ""), "d1 comes back once its real servers do\n\(output)")

        let drain = try XCTUnwrap(results["drain"], output)
        XCTAssertNotNil(Double(drain["withdrawn_after"] ?? ""), output)
        XCTAssertNotNil(Double(drain["back_after"] ?? ""), output)
        XCTAssertEqual(drain["failed"], "0", "a drained director loses no request\n\(output)")
        XCTAssertGreaterThan(Int(drain["served"] ?? "") ?? 0, 20, output)
        XCTAssertEqual(drain["logged"], "1", output)

        let sigterm = try XCTUnwrap(results["sigterm"], output)
        XCTAssertNotNil(Double(sigterm["withdrawn_after"] ?? ""), "SIGTERM withdraws the route\n\(output)")
        XCTAssertEqual(sigterm["d3_routes"], "none", output)
        XCTAssertEqual(sigterm["d3_held"], "0", output)
        XCTAssertEqual(sigterm["d3_ipvs"], "0", output)
        XCTAssertEqual(sigterm["logged"], "1", output)

        // A SIGKILL leaves the route (the test could not fail otherwise); the next start removes it.
        let sigkill = try XCTUnwrap(results["sigkill"], output)
        XCTAssertEqual(sigkill["left_routes"], "10.60.0.100", output)
        XCTAssertEqual(sigkill["left_local"], "1", "hold_address's local route is left too\n\(output)")
        XCTAssertEqual(sigkill["left_nexthops"], "d1,d2", output)
        XCTAssertNotNil(Double(sigkill["withdrawn_after"] ?? ""), output)
        XCTAssertEqual(sigkill["routes_after_start"], "none", output)
        XCTAssertEqual(sigkill["cleanup_logged"], "2", "the route and the local route removed at start\n\(output)")
        XCTAssertNotNil(Double(sigkill["back_after"] ?? ""), output)
        XCTAssertEqual(sigkill["d2_routes"], "10.60.0.100", output)
        // Tied to a VRRP instance (added by a reload): it follows the instance's mastership.
        let tie = try XCTUnwrap(results["tie"], output)
        XCTAssertNotNil(Double(tie["withdrawn_after"] ?? ""), "the reload's instance is not MASTER yet: withdrawn\n\(output)")
        // Measured from the MASTER log line, written just before the up_delay timer starts.
        let back = Double(tie["back_after"] ?? "") ?? 0
        XCTAssertGreaterThanOrEqual(back, 2.99, "announced up_delay after MASTER, not before\n\(output)")
        XCTAssertLessThan(back, 4.5, "announced up_delay after MASTER, not much later\n\(output)")
        XCTAssertGreaterThan(Double(tie["fault_withdrawn_after"] ?? "") ?? 0, 0, "FAULT withdraws\n\(output)")
        XCTAssertEqual(tie["master_logged"], "1", output)
        XCTAssertEqual(tie["fault_logged"], "1", output)
        XCTAssertEqual(tie["logged"], "2", "withdrawn twice for the instance, with its reason\n\(output)")
        XCTAssertEqual(results["cleanup-test"]?["namespaces_left"], "0", output)
    }
}
