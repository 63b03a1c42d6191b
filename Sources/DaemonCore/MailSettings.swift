import KeepalivedConfig

/// The mail settings of `global_defs` with keepalived's defaults filled in: mail goes out only
/// with `notification_email` and `smtp_server`; the subject starts with `[router_id]` (default: the
/// host's name); `notification_email_from` defaults to `USER@HOST` and `smtp_helo_name` to the
/// host's name (`localhost` when it has none).
public struct MailSettings: Sendable, Equatable {
    public var server: IPAddress
    public var port: Int
    public var recipients: [String]
    public var from: String
    public var heloName: String
    public var routerID: String?
    /// Bounds each alert's whole exchange (connect to QUIT).
    public var timeout: Double

    /// keepalived's `[198.51.100.25]:25`, as its SMTP lines name the server.
    public var serverName: String {
        "[\(server)]:\(port)"
    }

    /// Why a configuration gives no settings although it asks for mail.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case invalidServer(String, port: Int)

        /// keepalived's wording.
        public var description: String {
            switch self {
            case .invalidServer(let host, let port): return "Invalid smtp server \(host) \(port)"
            }
        }
    }

    /// nil when the configuration sends no mail. `localName` (the host's canonical name),
    /// `userName` (the daemon's user) and `resolve` (a server given by name) are asked only
    /// when needed.
    public static func resolve(_ defs: GlobalDefinitions, localName: () -> String?, userName: () -> String?,
                               resolve: (String) -> IPAddress?) -> Result<MailSettings, Problem>? {
        guard defs.sendsMail, let configured = defs.smtpServer else { return nil }
        let port = configured.port ?? SMTPServer.defaultPort
        guard let address = IPAddress(configured.host) ?? resolve(configured.host) else {
            return .failure(.invalidServer(configured.host, port: port))
        }
        let needsName = defs.routerID == nil || defs.notificationEmailFrom == nil || defs.smtpHeloName == nil
        let host = needsName ? localName() : nil
        let from = defs.notificationEmailFrom ?? host.flatMap { host in userName().map { "\($0)@\(host)" } } ?? ""
        return .success(MailSettings(server: address, port: port, recipients: defs.notificationEmail, from: from,
                                     heloName: defs.smtpHeloName ?? host ?? "localhost", routerID: defs.routerID ?? host,
                                     timeout: defs.smtpConnectTimeout ?? GlobalDefinitions.defaultSMTPConnectTimeout))
    }

    public init(server: IPAddress, port: Int, recipients: [String], from: String, heloName: String, routerID: String?, timeout: Double) {
        self.server = server
        self.port = port
        self.recipients = recipients
        self.from = from
        self.heloName = heloName
        self.routerID = routerID
        self.timeout = timeout
    }
}
