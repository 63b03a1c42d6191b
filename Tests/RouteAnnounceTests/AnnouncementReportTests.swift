import XCTest
@testable import RouteAnnounce

/// What the dumps (keepalived_check.data's section) say of the announcements.
final class AnnouncementReportTests: XCTestCase {
    func testCheckDataSection() {
        let report = RouteAnnouncementReport(maintenance: true, routes: [
            .init(prefix: "10.60.0.100/32", table: 254, protocolNumber: 250, device: "lo", announced: false, virtualServers: ["10.60.0.100:80", "10.60.0.100:443"]),
            .init(prefix: "10.60.1.0/24", table: 100, protocolNumber: 201, device: "vip0", announced: true, virtualServers: ["fwmark 9"]),
        ])
        XCTAssertEqual(report.dataLines, [
            "------< Announced routes (swiftkeepalived) >------",
            " Maintenance = yes",
            " Route = 10.60.0.100/32 dev lo table 254 proto 250",
            "   State = withdrawn",
            "   Virtual servers = 10.60.0.100:80, 10.60.0.100:443",
            " Route = 10.60.1.0/24 dev vip0 table 100 proto 201",
            "   State = announced",
            "   Virtual servers = fwmark 9",
        ])
        XCTAssertEqual(RouteAnnouncementReport().dataLines, [], "no section without announce_route")
    }
}
