import Foundation
import XCTest

/// --metrics-listen in the lab: two of our daemons (MASTER d1, BACKUP d2) serve /metrics, Debian's
/// Prometheus scrapes both every second from s1, promtool accepts what they serve, Prometheus'
/// query API follows a failover, and fetching /metrics ten times a second leaves the adverts on time.
final class MetricsLabTests: LabTestCase {
    private let port = 9165

    private func config(state: String, priority: Int) -> String {
        """
        vrrp_script chk_true {
            script "/bin/true"
            interval 1
        }

        """ + Lab.vrrpInstance(state: state, priority: priority, addresses: ["192.0.2.200", "192.0.2.201/24"],
                               extra: "track_script {\n        chk_true\n    }")
    }

    private func requireTools() throws {
        for tool in ["/usr/bin/prometheus", "/usr/bin/promtool", "/usr/bin/curl"] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw XCTSkip("METRICS LAB TEST SKIPPED: \(tool) is missing; run Scripts/setup")
        }
    }

    /// GET `path` from `node`'s server, from s1.
    private func fetch(_ node: String, _ path: String) throws -> String {
        try lab.exec("s1", ["curl", "-sS", "--max-time", "3", "http://\(lab.address(node)):\(port)\(path)"]).output
    }

    /// `keepalived_vrrp_state` per scrape target, as Prometheus' query API answers now.
    private func queriedStates() -> [String: [String: String]] {
        guard let output = try? lab.exec("s1", ["curl", "-sS", "--max-time", "3", "http://127.0.0.1:9090/api/v1/query?query=keepalived_vrrp_state"]).output,
              let json = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
              let data = json["data"] as? [String: Any], let results = data["result"] as? [[String: Any]] else { return [:] }
        var states: [String: [String: String]] = [:]
        for result in results {
            guard let metric = result["metric"] as? [String: String], let value = result["value"] as? [Any],
                  let instance = metric["instance"], let address = metric["ip_address"], let state = value.last as? String else { continue }
            states[instance, default: [:]][address] = state
        }
        return states
    }

    func testPrometheusScrapesBothFollowsAFailoverAndAdvertsStayOnTime() throws {
        try requireTools()
        lab = try Lab(directors: 2, servers: 1)
        // d1 on every address (IPv4 through a dual-stack socket), d2 on its own address.
        let master = try lab.start(.ours, on: "d1", config: config(state: "MASTER", priority: 100), arguments: ["--metrics-listen", ":\(port)"])
        let backup = try lab.start(.ours, on: "d2", config: config(state: "BACKUP", priority: 99),
                                   arguments: ["--metrics-listen", "\(lab.address("d2")):\(port)"])
        waitForLog(master, "(VI_1) Entering MASTER STATE")
        waitForLog(backup, "(VI_1) Entering BACKUP STATE")

        // What promtool thinks of the exposition, and the exporter's series in it.
        let metrics = try fetch("d1", "/metrics")
        let file = lab.directory.appendingPathComponent("d1.metrics").path
        try metrics.write(toFile: file, atomically: true, encoding: .utf8)
        let check = try Lab.run("/bin/sh", ["-c", "promtool check metrics < \(file)"])
        XCTAssertEqual(check.status, 0, "promtool check metrics: \(check.output)\n\(metrics)")
        XCTAssertTrue(metrics.contains(#"keepalived_vrrp_state{iname="VI_1",intf="lan0",vrid="51",ip_address="192.0.2.200"} 2"#), metrics)
        XCTAssertTrue(metrics.contains(#"keepalived_vrrp_state{iname="VI_1",intf="lan0",vrid="51",ip_address="192.0.2.201/24"} 2"#), metrics)
        XCTAssertTrue(metrics.contains(#"keepalived_script_status{name="chk_true"} 1"#), metrics)
        XCTAssertTrue(metrics.contains("keepalived_up 1"), metrics)
        let json = try fetch("d2", "/json")
        // keepalived.json's layout: an array of {"data", "stats"} per instance.
        let document = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]
        XCTAssertEqual((document?.first?["data"] as? [String: Any])?["iname"] as? String, "VI_1", json)
        XCTAssertNotNil((document?.first?["stats"] as? [String: Any])?["advert_rcvd"], json)
        XCTAssertTrue(try fetch("d2", "/nothing").contains("not found"))
        // As Prometheus asks (Accept-Encoding: gzip): one gzip stream of the same text.
        let url = "http://\(lab.address("d1")):\(port)/metrics"
        let head = try lab.exec("s1", ["curl", "-sS", "--max-time", "3", "-D", "-", "-o", "/dev/null", "-H", "Accept-Encoding: gzip", url]).output
        XCTAssertTrue(head.lowercased().contains("content-encoding: gzip"), head)
        let unzipped = try lab.exec("s1", ["sh", "-c", "curl -sS --max-time 3 -H 'Accept-Encoding: gzip' \(url) | gzip -dc"])
        XCTAssertEqual(unzipped.status, 0, unzipped.output)
        XCTAssertTrue(unzipped.output.contains(#"keepalived_script_status{name="chk_true"} 1"#), unzipped.output)
        // A reload, counted and timed.
        backup.kill(SIGHUP)
        waitForLog(backup, "Reloading")
        lab.wait(upTo: 3, for: "d2 to count its reload") { ((try? fetch("d2", "/metrics")) ?? "").contains("keepalived_reloads_total 1") }
        let reloaded = try fetch("d2", "/metrics")
        XCTAssertTrue(reloaded.contains("keepalived_last_reload_success 1"), reloaded)
        XCTAssertTrue(reloaded.contains("keepalived_last_reload_duration_seconds "), reloaded)

        // Prometheus in s1, scraping both every second.
        let prometheusConfig = try lab.writeConfig("""
            global:
              scrape_interval: 1s
              scrape_timeout: 900ms
            scrape_configs:
              - job_name: keepalived
                static_configs:
                  - targets: ['\(lab.address("d1")):\(port)', '\(lab.address("d2")):\(port)']

            """, as: "prometheus.yml")
        let prometheus = Process()
        prometheus.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        prometheus.arguments = ["netns", "exec", lab.namespace("s1"), "/usr/bin/prometheus", "--config.file=\(prometheusConfig)",
                                "--storage.tsdb.path=\(lab.directory.appendingPathComponent("tsdb").path)",
                                "--web.listen-address=127.0.0.1:9090", "--log.level=warn"]
        let prometheusLog = lab.directory.appendingPathComponent("prometheus.log").path
        _ = FileManager.default.createFile(atPath: prometheusLog, contents: nil)
        prometheus.standardOutput = FileHandle(forWritingAtPath: prometheusLog)
        prometheus.standardError = FileHandle(forWritingAtPath: prometheusLog)
        try prometheus.run()
        defer {
            if prometheus.isRunning { kill(prometheus.processIdentifier, SIGKILL) }
            prometheus.waitUntilExit()
        }
        let d1 = "\(lab.address("d1")):\(port)", d2 = "\(lab.address("d2")):\(port)"
        let before = lab.wait(upTo: 30, for: "Prometheus to report d1 MASTER and d2 BACKUP") {
            let states = queriedStates()
            return states[d1]?["192.0.2.200"] == "2" && states[d2]?["192.0.2.200"] == "1"
        }
        if before == nil { print("prometheus log:\n\((try? String(contentsOfFile: prometheusLog, encoding: .utf8)) ?? "")") }

        // Adverts on the wire while s1 fetches d1's /metrics ten times a second.
        let adverts = try AdvertCapture(lab: lab, node: "d1")
        Thread.sleep(forTimeInterval: 1)
        let scraper = """
            import sys, time, urllib.request
            url, seconds = sys.argv[1], float(sys.argv[2])
            ok = failed = 0
            start = time.monotonic()
            tick = start
            while time.monotonic() - start < seconds:
                try:
                    with urllib.request.urlopen(url, timeout=2) as answer:
                        ok += answer.status == 200 and b"keepalived_vrrp_state" in answer.read()
                except Exception:
                    failed += 1
                tick += 0.1
                time.sleep(max(0, tick - time.monotonic()))
            print(ok, failed)
            """
        let scraped = try lab.exec("s1", ["python3", "-c", scraper, "http://\(d1)/metrics", "8"])
        let counts = scraped.output.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        XCTAssertGreaterThanOrEqual(counts.first ?? 0, 75, "fetches answered in 8 s at 10/s: \(scraped.output)")
        XCTAssertEqual(counts.last ?? 1, 0, "failed fetches: \(scraped.output)")
        Thread.sleep(forTimeInterval: 0.5)
        adverts.stop()
        let times = adverts.times
        XCTAssertGreaterThanOrEqual(times.count, 8, "adverts during the 9.5 s capture")
        let gaps = zip(times, times.dropFirst()).map { $1 - $0 }
        print("METRICS: \(scraped.output.trimmingCharacters(in: .whitespacesAndNewlines)) (answered, failed) fetches; advert gaps \(gaps.min() ?? 0)-\(gaps.max() ?? 0) s")
        XCTAssertLessThan(gaps.max() ?? 99, 1.05, "the worst gap between adverts while scraped: \(gaps)")
        XCTAssertGreaterThan(gaps.min() ?? 0, 0.95, "adverts came early while scraped: \(gaps)")

        // The master's advert timer lateness, one observation per advert since it became master.
        let scrapedMetrics = try fetch("d1", "/metrics")
        let delays = scrapedMetrics.split(separator: "\n").first { $0.hasPrefix(#"keepalived_vrrp_advert_send_delay_seconds_count{iname="VI_1"}"#) }
        XCTAssertGreaterThanOrEqual(delays.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0, 8, scrapedMetrics)
        XCTAssertTrue(scrapedMetrics.contains(#"keepalived_vrrp_advert_send_delay_seconds_bucket{iname="VI_1",le="0.005"}"#), scrapedMetrics)

        // The failover, as Prometheus sees it: d2 becomes MASTER, d1's series go stale.
        master.kill(SIGKILL)
        waitForLog(backup, "(VI_1) Entering MASTER STATE")
        let after = lab.wait(upTo: 20, for: "Prometheus to report d2 MASTER and nothing from d1") {
            let states = queriedStates()
            return states[d2]?["192.0.2.200"] == "2" && states[d2]?["192.0.2.201/24"] == "2" && states[d1] == nil
        }
        if after == nil { print("states: \(queriedStates())") }
        let up = try lab.exec("s1", ["curl", "-sS", "http://127.0.0.1:9090/api/v1/query?query=up"]).output
        XCTAssertTrue(up.contains(#""instance":"\#(d1)","job":"keepalived"},"value":["#) && up.contains(#""0"]"#), up)
        let becameMaster = try fetch("d2", "/metrics")
        XCTAssertTrue(becameMaster.contains(#"keepalived_vrrp_state{iname="VI_1",intf="lan0",vrid="51",ip_address="192.0.2.200"} 2"#), becameMaster)
    }

    /// The checkers' series from a daemon running -C (this kernel has no IPVS, so the real and
    /// virtual servers' series and the kernel's counters are the VM test's): one server up
    /// (HTTP_GET), one down (TCP_CHECK to a closed port), and the check-duration histogram.
    func testCheckerSeries() throws {
        try requireTools()
        lab = try Lab(directors: 1, servers: 1)
        let server = lab.address("s1")
        let script = Lab.repository.appendingPathComponent("Tests/LabTests/check_servers.py").path
        _ = try lab.spawn("s1", ["python3", script, "--access-log", lab.directory.appendingPathComponent("access.log").path,
                                 "--control", "127.0.0.1:9000", "\(server):8080=http"], log: "servers.log")
        let config = """
            virtual_server 192.0.2.200 80 {
                delay_loop 1
                lb_algo rr
                lb_kind NAT
                protocol TCP
                real_server \(server) 8080 {
                    HTTP_GET {
                        url {
                            path /
                        }
                        connect_timeout 1
                    }
                }
                real_server \(server) 8081 {
                    TCP_CHECK {
                        connect_timeout 1
                        retry 0
                    }
                }
            }

            """
        let daemon = try lab.start(.ours, on: "d1", config: config, part: .checkers, arguments: ["--metrics-listen", ":\(port)"])
        waitForLog(daemon, "TCP_CHECK on service [\(server)]:tcp:8081 failed.")
        Thread.sleep(forTimeInterval: 1.5)
        let metrics = try lab.exec("s1", ["curl", "-sS", "--max-time", "3", "http://\(lab.address("d1")):\(port)/metrics"]).output
        let file = lab.directory.appendingPathComponent("d1.metrics").path
        try metrics.write(toFile: file, atomically: true, encoding: .utf8)
        let check = try Lab.run("/bin/sh", ["-c", "promtool check metrics < \(file)"])
        XCTAssertEqual(check.status, 0, "promtool check metrics: \(check.output)\n\(metrics)")
        let vs = #"virtual_server="[192.0.2.200]:tcp:80""#
        XCTAssertTrue(metrics.contains(#"keepalived_check_up{\#(vs),real_server="[\#(server)]:tcp:8080",checker="HTTP_GET"} 1"#), metrics)
        XCTAssertTrue(metrics.contains(#"keepalived_check_up{\#(vs),real_server="[\#(server)]:tcp:8081",checker="TCP_CHECK"} 0"#), metrics)
        XCTAssertTrue(metrics.contains(#"keepalived_check_failures_total{\#(vs),real_server="[\#(server)]:tcp:8081",checker="TCP_CHECK"} "#), metrics)
        XCTAssertTrue(metrics.contains(#"keepalived_check_last_duration_seconds{\#(vs),real_server="[\#(server)]:tcp:8080",checker="HTTP_GET"} "#), metrics)
        XCTAssertTrue(metrics.contains(#"keepalived_check_duration_seconds_count{checker="HTTP_GET"} "#), metrics)
        XCTAssertFalse(metrics.contains("keepalived_vrrp_state"), "no VRRP part with -C")
    }
}
