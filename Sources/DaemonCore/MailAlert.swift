import Logging

/// One e-mail alert, as keepalived words it: the subject without the `[router_id] ` that the
/// sender puts first, and the one-line body.
public struct MailAlert: Sendable, Equatable {
    public var subject: String
    public var body: String

    public init(subject: String, body: String) {
        self.subject = subject
        self.body = body
    }

    /// A VRRP instance's new state (`MASTER`, `BACKUP`, `FAULT`, `STOP`); nil for states
    /// keepalived does not mail.
    public static func instance(_ name: String, state: String) -> MailAlert? {
        let body: String
        switch state {
        case "MASTER": body = "=> VRRP Instance is now owning VRRP VIPs <="
        case "BACKUP", "FAULT": body = "=> VRRP Instance is no longer owning VRRP VIPs <="
        case "STOP": body = "=> VRRP Instance stopping <="
        default: return nil
        }
        return MailAlert(subject: "VRRP Instance \(name) - \(Self.entering(state))", body: body)
    }

    /// A sync group's new state.
    public static func group(_ name: String, state: String) -> MailAlert? {
        let body: String
        switch state {
        case "MASTER", "BACKUP", "FAULT": body = "=> All VRRP group instances are now in \(state) state <="
        case "STOP": body = "=> All VRRP group instances are now stopping <="
        default: return nil
        }
        return MailAlert(subject: "VRRP Group \(name) - \(Self.entering(state))", body: body)
    }

    /// A checker's verdict on a real server (`[198.51.100.2]:tcp:80` of `[192.0.2.1]:tcp:80`);
    /// `alive` is the real server's state once every checker is counted.
    public static func realServer(_ real: String, of virtualServer: String, alive: Bool, body: String) -> MailAlert {
        MailAlert(subject: "Realserver \(real) of virtual server \(virtualServer) - \(alive ? "UP" : "DOWN")", body: body)
    }

    /// A virtual server's quorum gained or lost; `initial` for the first verdict after start.
    /// keepalived writes `+` between quorum and hysteresis whichever way it went.
    public static func quorum(of virtualServer: String, up: Bool, initial: Bool, quorum: Int, hysteresis: Int,
                              threshold: Int, liveWeight: Int) -> MailAlert {
        let what = up ? (initial ? "Starting with quorum up" : "Gained quorum") : (initial ? "Starting with quorum down" : "Lost quorum")
        return MailAlert(subject: "Virtualserver \(virtualServer) - \(up ? "UP" : "DOWN")",
                         body: "=> \(what) \(quorum)+\(hysteresis)=\(threshold) <= \(liveWeight) <=")
    }

    private static func entering(_ state: String) -> String {
        state == "STOP" ? "Stopping" : "Entering \(state) state"
    }
}

/// Sends alerts without blocking the caller; failures are logged on `logger` (the part's).
public protocol MailAlerter: AnyObject {
    func send(_ alert: MailAlert, logger: Logger)
}
