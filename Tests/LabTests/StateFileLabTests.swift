import Foundation
import XCTest

/// keepalived.json, keepalived.data and keepalived.stats of ours against Debian's keepalived's
/// for the same config in the same lab: the keys and JSON types, the lines keepalived-exporter
/// parses, and the counters' meaning.
final class StateFileLabTests: LabTestCase {
    /// VI_1 is alone on its VRID and becomes MASTER; VI_2 hears d2's priority-200 master and
    /// stays BACKUP.
    private let config = """
    vrrp_script chk {
        script "/usr/bin/true"
        interval 1
    }

    """ + Lab.vrrpInstance(state: "MASTER", priority: 100, addresses: ["192.0.2.200", "192.0.2.201/24 dev lan0"],
                           extra: "track_script {\n        chk\n    }") + """
    vrrp_instance VI_2 {
        state BACKUP
        interface lan0
        virtual_router_id 52
        priority 90
        advert_int 1
        virtual_ipaddress {
            192.0.2.210
        }
    }

    """

    private let peer = """
    vrrp_instance VI_2 {
        state MASTER
        interface lan0
        virtual_router_id 52
        priority 200
        advert_int 1
        virtual_ipaddress {
            192.0.2.210
        }
    }

    """

    /// One advert of each kind keepalived counts, for VI_1 (VRID 51, password 1111, interval 1,
    /// 192.0.2.200 and .201), from d3, with correct checksums: TTL 64, a wrong password, no
    /// authentication, authentication type 5, interval 2, packet type 2, one address instead of
    /// two, a wrong second address, a truncated address list, and a valid priority-0 advert.
    private let badAdverts = """
    import socket, struct, sys
    source = sys.argv[1]
    def checksum(data):
        if len(data) % 2:
            data += b"\\0"
        total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
        total = (total >> 16) + (total & 0xFFFF)
        total += total >> 16
        return ~total & 0xFFFF
    def advert(priority=50, version_type=0x21, auth=1, interval=1, password=b"1111", addresses=("192.0.2.200", "192.0.2.201"), cut=0):
        raw = b"".join(socket.inet_aton(a) for a in addresses)
        body = struct.pack("!BBBBBBH", version_type, 51, priority, len(addresses), auth, interval, 0) + raw + password.ljust(8, b"\\0")
        body = body[:6] + struct.pack("!H", checksum(body)) + body[8:]
        return body[:len(body) - cut] if cut else body
    def ip(payload, ttl=255):
        return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, ttl, 112, 0, socket.inet_aton(source),
                           socket.inet_aton("224.0.0.18")) + payload
    packets = [ip(advert(), ttl=64), ip(advert(password=b"wrong")), ip(advert(auth=0, password=b"")), ip(advert(auth=5)),
               ip(advert(interval=2)), ip(advert(version_type=0x22)), ip(advert(addresses=("192.0.2.200",))),
               ip(advert(addresses=("192.0.2.200", "192.0.2.202"))), ip(advert(cut=12) + b"\\0" * 4), ip(advert(priority=0))]
    sender = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sender.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    sender.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"lan0")
    for packet in packets:
        sender.sendto(packet, ("224.0.0.18", 0))
    """

    private struct Files {
        var json: String
        var data: String
        var stats: String
    }

    /// keepalived's SIGJSON (SIGRTMIN+2).
    static let jsonSignal = Int32(36)
    private static let statsClearSignal = Int32(63)

    /// Runs `kind` on d1 with its dump folder in the lab, waits for VI_1 to be master and VI_2
    /// to have heard d2, then asks for the three files.
    private func files(of kind: Daemon.Kind) throws -> (Files, Daemon) {
        let folder = lab.directory.appendingPathComponent("\(kind)-tmp").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // keepalived writes its files to $TMPDIR; so do we.
        let daemon = try lab.start(kind, on: "d1", config: config, environment: ["TMPDIR": folder])
        lab.wait(upTo: 10, for: "\(kind) on d1 to hold VI_1's address") { lab.addresses("d1").contains("192.0.2.200") }
        Thread.sleep(forTimeInterval: 2.5)
        let sent = try lab.exec("d3", ["python3", "-c", badAdverts, lab.address("d3")])
        XCTAssertEqual(sent.status, 0, sent.output)
        Thread.sleep(forTimeInterval: 0.5)
        for name in ["keepalived.json", "keepalived.data", "keepalived.stats"] { try? FileManager.default.removeItem(atPath: "\(folder)/\(name)") }
        // A link planted under a file's name is replaced, not followed.
        let victim = lab.directory.appendingPathComponent("\(kind)-victim").path
        try "untouched".write(toFile: victim, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: "\(folder)/keepalived.json", withDestinationPath: victim)
        for signal in [SIGUSR1, SIGUSR2, Self.jsonSignal] { kill(daemon.pid, signal) }
        func read(_ name: String) -> String { (try? String(contentsOfFile: "\(folder)/\(name)", encoding: .utf8)) ?? "" }
        lab.wait(upTo: 5, for: "\(kind)'s three files") {
            ["keepalived.json", "keepalived.data", "keepalived.stats"].allSatisfy { !read($0).isEmpty }
        }
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "untouched", "\(kind) wrote through a link")
        for name in ["keepalived.json", "keepalived.data", "keepalived.stats"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: "\(folder)/\(name)")
            XCTAssertEqual(attributes[.type] as? FileAttributeType, .typeRegular, "\(kind) \(name)")
            XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600, "\(kind) \(name): keepalived's mode")
        }
        return (Files(json: read("keepalived.json"), data: read("keepalived.data"), stats: read("keepalived.stats")), daemon)
    }

    func testStateFilesMatchKeepalivedsForTheSameInstances() throws {
        lab = try Lab(directors: 3)
        _ = try lab.start(.ours, on: "d2", config: peer)
        lab.wait(upTo: 10, for: "d2 to hold VI_2's address") { lab.addresses("d2").contains("192.0.2.210") }

        let (theirs, keepalived) = try files(of: .keepalived)
        keepalived.kill(SIGTERM)
        XCTAssertTrue(keepalived.waitForExit(timeout: 5), "keepalived must stop")
        lab.wait(upTo: 5, for: "keepalived's addresses to go") { !lab.addresses("d1").contains("192.0.2.200") }
        let (ours, daemon) = try files(of: .ours)

        // keepalived.json: every key keepalived writes, with the same JSON type, per instance.
        let theirKeys = try jsonKeyTypes(theirs.json)
        let ourKeys = try jsonKeyTypes(ours.json)
        XCTAssertFalse(theirKeys.isEmpty, "keepalived wrote no keepalived.json:\n\(keepalived.log)")
        XCTAssertEqual(ourKeys, theirKeys, "keepalived.json keys and types\nkeepalived: \(theirs.json)\nours: \(ours.json)")

        // keepalived.json values the exporter reads.
        let theirValues = try jsonValues(theirs.json)
        let ourValues = try jsonValues(ours.json)
        for key in ["VI_1 data iname", "VI_1 data state", "VI_1 data wantstate", "VI_1 data ifp_ifname", "VI_1 data vrid",
                    "VI_1 data garp_delay", "VI_1 data vips", "VI_2 data state", "VI_2 data vips", "VI_2 data vrid",
                    "VI_1 data auth_type", "VI_1 data auth_data", "VI_1 data base_priority", "VI_1 data vipset", "VI_2 data vipset",
                    "VI_1 stats become_master", "VI_2 stats become_master"] {
            XCTAssertEqual(ourValues[key], theirValues[key], key)
        }
        // The bad adverts from d3 are counted as keepalived counts them, but for the interval:
        // keepalived drops a VRRPv2 advert with another interval without counting it.
        let expected = ["advert_rcvd": "2", "ip_ttl_err": "1", "auth_failure": "1", "authtype_mismatch": "1", "invalid_authtype": "1",
                        "invalid_type_rcvd": "1", "addr_list_err": "2", "packet_len_err": "1", "pri_zero_rcvd": "1",
                        "become_master": "1", "release_master": "0", "pri_zero_sent": "0"]
        for (counter, value) in expected {
            XCTAssertEqual(theirValues["VI_1 stats \(counter)"], value, "keepalived's \(counter)")
            XCTAssertEqual(ourValues["VI_1 stats \(counter)"], value, "our \(counter)")
        }
        XCTAssertEqual(theirValues["VI_1 stats advert_interval_err"], "0")
        XCTAssertEqual(ourValues["VI_1 stats advert_interval_err"], "1")
        XCTAssertEqual(ourValues["VI_1 data state"], "2", "MASTER is keepalived's 2")
        XCTAssertEqual(ourValues["VI_2 data state"], "1", "BACKUP is keepalived's 1")
        for values in [theirValues, ourValues] {
            XCTAssertGreaterThan(Int(values["VI_1 stats advert_sent"] ?? "") ?? 0, 0)
            XCTAssertGreaterThan(Int(values["VI_2 stats advert_rcvd"] ?? "") ?? 0, 0)
        }

        // keepalived.data: the same keys in each instance and script section, the same values
        // for what the exporter reads.
        let theirData = exporterView(theirs.data)
        let ourData = exporterView(ours.data)
        XCTAssertEqual(theirData.keys.sorted(), ["VI_1", "VI_2", "script chk"], theirs.data)
        for section in theirData.keys {
            XCTAssertEqual(Set(ourData[section]?.keys ?? [:].keys), Set(theirData[section]?.keys ?? [:].keys),
                           "keys of \(section)\nkeepalived:\n\(theirs.data)\nours:\n\(ours.data)")
        }
        for (section, keys) in [("VI_1", ["State", "Wantstate", "Interface", "Gratuitous ARP delay", "Virtual Router ID", "Virtual IP"]),
                                ("VI_2", ["State", "Wantstate", "Interface", "Gratuitous ARP delay", "Virtual Router ID", "Virtual IP",
                                          "Master router", "Master priority"]),
                                ("script chk", ["Status", "State", "Weight"])] {
            for key in keys { XCTAssertEqual(ourData[section]?[key], theirData[section]?[key], "\(section) \(key)") }
        }

        // keepalived.data's Global definitions: each line we write is keepalived's, word for word.
        let theirLines = Set(theirs.data.split(separator: "\n").map(String.init))
        let ourGlobals = ours.data.split(separator: "\n").map(String.init).prefix { $0 != "------< VRRP Topology >------" }
        XCTAssertGreaterThan(ourGlobals.count, 20, ours.data)
        for line in ourGlobals { XCTAssertTrue(theirLines.contains(line), "keepalived.data has no '\(line)'\n\(theirs.data)") }

        // keepalived.stats: the same lines, numbers aside.
        XCTAssertEqual(skeleton(ours.stats), skeleton(theirs.stats), "keepalived.stats\nkeepalived:\n\(theirs.stats)\nours:\n\(ours.stats)")
        XCTAssertTrue(ours.stats.contains("VRRP Instance: VI_1\n  Advertisements:\n    Received: 2\n"), ours.stats)

        // STATS_CLEAR writes the counters, then clears them.
        let folder = lab.directory.appendingPathComponent("ours-tmp").path
        kill(daemon.pid, Self.statsClearSignal)
        Thread.sleep(forTimeInterval: 0.5)
        let beforeClear = (try? String(contentsOfFile: "\(folder)/keepalived.stats", encoding: .utf8)) ?? ""
        XCTAssertTrue(beforeClear.contains("  Became master: 1\n"), beforeClear)
        kill(daemon.pid, SIGUSR2)
        Thread.sleep(forTimeInterval: 0.5)
        let afterClear = (try? String(contentsOfFile: "\(folder)/keepalived.stats", encoding: .utf8)) ?? ""
        XCTAssertTrue(afterClear.contains("VRRP Instance: VI_1\n  Advertisements:\n    Received: 0\n    Sent: 0\n  Became master: 0\n")
                      || afterClear.contains("VRRP Instance: VI_1\n  Advertisements:\n    Received: 0\n    Sent: 1\n  Became master: 0\n"),
                      afterClear)
        XCTAssertTrue(daemon.log.contains("Printing and clearing VRRP stats for process(\(daemon.pid)) on signal"), daemon.log)
    }

    /// "INSTANCE SECTION KEY" → the JSON type of its value, through Python's json (which tells
    /// integers, floats, booleans, strings and lists apart).
    private func jsonKeyTypes(_ json: String) throws -> [String: String] {
        try python(json, "print(f'{name} {section} {key}\\t{type(value).__name__}')")
    }

    private func jsonValues(_ json: String) throws -> [String: String] {
        try python(json, "print(f'{name} {section} {key}\\t{json.dumps(value) if not isinstance(value, str) else value}')")
    }

    private func python(_ json: String, _ line: String) throws -> [String: String] {
        let path = lab.directory.appendingPathComponent("dump-\(UUID().uuidString).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        let script = """
        import json, sys
        for instance in json.load(open(sys.argv[1])):
            name = instance['data']['iname']
            for section in ('data', 'stats'):
                for key, value in instance[section].items():
                    \(line)
        """
        let result = try Lab.run("/usr/bin/python3", ["-c", script, path])
        XCTAssertEqual(result.status, 0, result.output)
        var map: [String: String] = [:]
        for row in result.output.split(separator: "\n") {
            let parts = row.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2 { map[String(parts[0])] = String(parts[1]) }
        }
        return map
    }

    /// keepalived.data as keepalived-exporter's ParseVRRPData and ParseVRRPScript read it: per
    /// instance (and per `script NAME`), each `   Key = value` or `   Key: value` line, with
    /// the lines under `Virtual IP (N):` joined as "Virtual IP" (address and device, as its
    /// ParseVIP keeps them).
    private func exporterView(_ data: String) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        var key = ""
        for line in data.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix(" VRRP Instance = ") || line.hasPrefix(" VRRP Script = ") {
                let name = line.split(separator: "=", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)
                current = line.hasPrefix(" VRRP Instance") ? name : "script \(name)"
                sections[current!] = [:]
            } else if let section = current, line.hasPrefix("     ") {
                guard key.hasPrefix("Virtual IP (") else { continue }
                let words = line.trimmingCharacters(in: .whitespaces).split(separator: " ")
                let vip = words.count >= 3 ? "\(words[0]) \(words[2])" : "?"
                sections[section]!["Virtual IP", default: ""] += vip + ";"
            } else if let section = current, line.hasPrefix("   ") {
                let separator: Character? = line.contains("=") ? "=" : line.contains(":") ? ":" : nil
                guard let separator else { continue }
                let parts = line.split(separator: separator, maxSplits: 1, omittingEmptySubsequences: false)
                key = parts[0].trimmingCharacters(in: .whitespaces)
                let value = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
                // The times differ from run to run; their keys must be there all the same.
                sections[section]![key] = ["Last transition", "Read timeout"].contains(key) ? "time" : value
            } else {
                current = nil
            }
        }
        return sections
    }

    /// The text with every number replaced by N.
    private func skeleton(_ text: String) -> String {
        text.replacingOccurrences(of: "[0-9]+", with: "N", options: .regularExpression)
    }
}
