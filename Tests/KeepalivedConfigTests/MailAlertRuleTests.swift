import KeepalivedConfig
import XCTest

/// keepalived 2.4.3's rules for which objects mail: the object's smtp_alert, else
/// smtp_alert_vrrp / smtp_alert_checker, else smtp_alert, else off (real servers: on).
final class MailAlertRuleTests: XCTestCase {
    private func config(globals: String, instanceLine: String = "", groupLine: String = "", serverLine: String = "",
                        realLine: String = "") -> KeepalivedConfiguration {
        parseClean("""
        global_defs {
            notification_email {
                ops@example.org
            }
            smtp_server 192.0.2.25
            \(globals)
        }
        vrrp_sync_group G1 {
            group {
                VI_1
            }
            \(groupLine)
        }
        \(instance(instanceLine + "\n    priority 100\n    virtual_ipaddress {\n        192.0.2.100/24\n    }"))
        virtual_server 192.0.2.10 80 {
            protocol TCP
            \(serverLine)
            real_server 198.51.100.1 80 {
                \(realLine)
                TCP_CHECK {
                }
            }
        }
        """)
    }

    private func verdicts(_ configuration: KeepalivedConfiguration) -> [Bool] {
        let globals = configuration.globalDefs
        return [configuration.vrrpInstances[0].effectiveSMTPAlert(globals), configuration.syncGroups[0].effectiveSMTPAlert(globals),
                configuration.virtualServers[0].effectiveSMTPAlert(globals),
                configuration.virtualServers[0].realServers[0].effectiveSMTPAlert(globals)]
    }

    func testDefaultsAreOffExceptForRealServers() {
        XCTAssertEqual(verdicts(config(globals: "")), [false, false, false, true])
    }

    func testTheGlobalSwitchTurnsEveryObjectOnOrOff() {
        XCTAssertEqual(verdicts(config(globals: "smtp_alert")), [true, true, true, true])
        XCTAssertEqual(verdicts(config(globals: "smtp_alert off")), [false, false, false, false])
    }

    func testThePartsSwitchesOverrideTheGlobalOne() {
        XCTAssertEqual(verdicts(config(globals: "smtp_alert\nsmtp_alert_vrrp off")), [false, false, true, true])
        XCTAssertEqual(verdicts(config(globals: "smtp_alert off\nsmtp_alert_checker on")), [false, false, true, true])
        XCTAssertEqual(verdicts(config(globals: "smtp_alert_vrrp on")), [true, true, false, true])
    }

    func testAnObjectsOwnSettingWins() {
        let configuration = config(globals: "smtp_alert off", instanceLine: "smtp_alert on", groupLine: "smtp_alert",
                                   serverLine: "smtp_alert yes", realLine: "smtp_alert on")
        XCTAssertEqual(verdicts(configuration), [true, true, true, true])
        XCTAssertEqual(verdicts(config(globals: "smtp_alert", realLine: "smtp_alert off")), [true, true, true, false])
    }

    func testMailNeedsRecipientsAndAServer() {
        XCTAssertTrue(config(globals: "").globalDefs.sendsMail)
        XCTAssertFalse(parseClean("global_defs {\n    smtp_server 192.0.2.25\n}\n").globalDefs.sendsMail)
        XCTAssertFalse(parseClean("global_defs {\n    notification_email {\n        a@example.org\n    }\n}\n").globalDefs.sendsMail)
    }
}
