#if canImport(Glibc)
import Glibc
#endif
import DaemonCore
import KeepalivedConfig

/// DNS_CHECK, UDP_CHECK, PING_CHECK and SMTP_CHECK: one exchange per check, each ending in
/// `record`. Their failure lines name the checker and the server as keepalived's do.
extension Checker {
    func query(_ dns: DNSCheck, deadline: Instant) {
        sequence &+= 1
        let type = dns.type ?? DNSCheck.defaultType
        let name = dns.name ?? DNSCheck.defaultName
        let query = DNSQuery(id: sequence, name: name, type: type)
        exchange(request: query.bytes, transport: .udp, deadline: deadline, classify: { reply, _ in
            switch query.verdict(of: reply) {
            case .good: return .passed
            case .unrelated: return .ignore
            case .bad(let reason): return .failed("\(reason) (query \(type.rawValue) \(name))")
            }
        }) { [weak self] outcome in
            guard let self else { return }
            let what = "DNS_CHECK (\(serverName))"
            switch outcome {
            case .passed: record(success: true)
            case .failed(let reason): record(success: false, reason: "\(what) \(reason)")
            case .silent: record(success: false, reason: "\(what) read timeout from socket")
            }
        }
    }

    func probe(_ udp: UDPCheck, deadline: Instant) {
        exchange(request: udp.payload ?? UDPCheck.defaultPayload, transport: .udp, deadline: deadline, classify: { reply, _ in
            guard udp.requireReply else { return .passed }
            if let minimum = udp.minReplyLength, reply.count < minimum {
                return .failed("reply of \(reply.count) bytes is shorter than min_reply_length \(minimum)")
            }
            if let maximum = udp.maxReplyLength, reply.count > maximum {
                return .failed("reply of \(reply.count) bytes is longer than max_reply_length \(maximum)")
            }
            if let pattern = udp.replyPattern, !pattern.matches(reply) { return .failed("reply data mismatch") }
            return .passed
        }) { [weak self] outcome in
            guard let self else { return }
            // A UDP reply carries nothing to tell it from the answer to an earlier probe: each probe
            // gets a socket of its own, so a late answer cannot pass for the next one.
            exchange?.close()
            exchange = nil
            switch outcome {
            case .passed: record(success: true)
            // Without require_reply, silence is success: only an ICMP error says the port is closed.
            case .silent where !udp.requireReply: record(success: true)
            case .silent: record(success: false, reason: "UDP connection to \(serverName) failed: no reply within \(Self.seconds(connectTimeout)) s")
            case .failed("reply data mismatch"): record(success: false, reason: "UDP check to \(serverName) reply data mismatch.")
            case .failed(let reason): record(success: false, reason: "UDP connection to \(serverName) failed: \(reason)")
            }
        }
    }

    func ping(deadline: Instant) {
        sequence &+= 1
        let isIPv6 = endpoint.address.family == .inet6
        let echo = ICMPEcho(identifier: Self.pingIdentifier, sequence: sequence, isIPv6: isIPv6)
        var icmpEndpoint = endpoint
        icmpEndpoint.port = 0
        exchange(request: echo.request, transport: .icmp, to: icmpEndpoint, deadline: deadline, classify: { reply, raw in
            echo.isReply(reply, withIPHeader: raw && !isIPv6, anyIdentifier: !raw) ? .passed : .ignore
        }) { [weak self] outcome in
            guard let self else { return }
            switch outcome {
            case .passed: record(success: true)
            case .failed(let reason): record(success: false, reason: "ICMP connection to \(serverName) of \(virtualServerName) failed: \(reason)")
            case .silent: record(success: false, reason: "ICMP connection to address \(serverName) timeout.")
            }
        }
    }

    /// Holds the dialogue with the server (or the checker's connect_ip and port).
    func converse(_ smtp: SMTPCheck, deadline: Instant) {
        let dialogue = SMTPDialogue(heloName: smtp.heloName ?? SMTPCheck.defaultHeloName)
        connection = ConnectionDriver(io: context.io, endpoint: endpoint, tls: nil, serverName: nil, request: nil, hashBody: false,
                                      smtp: dialogue, timeout: connectTimeout, deadline: deadline) { [weak self] outcome in
            guard let self else { return }
            connection = nil
            switch outcome {
            case .connected: record(success: true)
            case .failed(let reason):
                let address = endpoint.address.family == .inet6 ? "[\(endpoint.address)]:\(endpoint.port)" : "\(endpoint.address):\(endpoint.port)"
                record(success: false, reason: "SMTP_CHECK on service \(serverName) host \(address) failed: \(reason)")
            }
        }
        connection?.start()
    }

    /// One request and its reply on the checker's datagram socket, opened at the first check.
    private func exchange(request: [UInt8], transport: CheckTransport, to target: CheckEndpoint? = nil, deadline: Instant,
                          classify: @escaping (UnsafeRawBufferPointer, Bool) -> DatagramExchange.Classification,
                          completion: @escaping (DatagramExchange.Outcome) -> Void) {
        let channel = exchange ?? DatagramExchange(io: context.io, endpoint: target ?? endpoint, transport: transport)
        exchange = channel
        channel.exchange(request, timeout: connectTimeout, deadline: deadline, classify: classify, completion: completion)
    }

    /// Echo requests of this process carry its number, as ping's do: on a raw socket, replies
    /// to other programs' pings are then told apart.
    static let pingIdentifier = UInt16(truncatingIfNeeded: getpid())

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
