import Foundation
import XCTest

/// Stopping under load: 200 instances and 400 checked real servers. SIGTERM ends the daemon
/// within a second with every address removed; after a SIGKILL, the next start removes what the
/// dead process left before it takes any state.
final class ShutdownLabTests: LabTestCase {
    private func config(server: String) -> String {
        var text = ""
        for vrid in 1...200 {
            text += """
            vrrp_instance VI_\(vrid) {
                state MASTER
                interface lan0
                virtual_router_id \(vrid)
                priority 100
                advert_int 1
                virtual_ipaddress {
                    203.0.113.\(vrid)/32
                }
            }

            """
        }
        text += "virtual_server 192.0.2.200 80 {\n delay_loop 1\n lb_kind NAT\n protocol TCP\n"
        for port in 9000..<9400 {
            text += " real_server \(server) \(port) {\n  TCP_CHECK {\n   connect_timeout 1\n  }\n }\n"
        }
        return text + "}\n"
    }

    private func vips() -> Int {
        lab.addresses("d1").filter { $0.hasPrefix("203.0.113.") }.count
    }

    func testSIGTERMUnderLoadExitsWithinASecondAndSIGKILLLeftoversAreCleaned() throws {
        lab = try Lab(directors: 1, servers: 1)
        let text = config(server: lab.address("s1"))
        let first = try lab.start(.ours, on: "d1", config: text, part: .both)
        lab.wait(upTo: 10, for: "200 masters") { vips() == 200 }
        Thread.sleep(forTimeInterval: 1)
        let started = Date()
        first.kill(SIGTERM)
        XCTAssertTrue(first.waitForExit(timeout: 5))
        let took = Date().timeIntervalSince(started)
        XCTAssertLessThan(took, 1.0, "SIGTERM to exit")
        XCTAssertEqual(vips(), 0, "addresses left after SIGTERM")

        let second = try lab.start(.ours, on: "d1", config: text, part: .both)
        lab.wait(upTo: 10, for: "200 masters again") { vips() == 200 }
        second.kill(SIGKILL)
        XCTAssertTrue(second.waitForExit(timeout: 5))
        XCTAssertEqual(vips(), 200, "a killed daemon cannot clean up")
        // The next start removes them at once, long before it could be master (3.6 s).
        let third = try lab.start(.ours, on: "d1", config: text, part: .both)
        lab.wait(upTo: 2, for: "the leftovers to be removed") { vips() == 0 }
        lab.wait(upTo: 10, for: "200 masters once more") { vips() == 200 }
        third.kill(SIGTERM)
        XCTAssertTrue(third.waitForExit(timeout: 5))
    }
}
