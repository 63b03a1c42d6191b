/// The text of an alert on the wire, as keepalived writes it: the envelope addresses, then the
/// DATA part with `Date`, `From`, `Subject`, `X-Mailer: Keepalived` and `To` (one recipient a
/// line), a blank line, the body, and the final dot. Lines end in CRLF, and a body line that
/// starts with a dot gets a second one (RFC 5321 4.5.2; keepalived's bodies never start so).
/// Pure.
public enum MailMessage {
    /// `<addr>` for MAIL FROM / RCPT TO: the part in angle brackets of `Name <addr>`, else the
    /// whole address bracketed.
    public static func envelope(_ address: String) -> String {
        if address.hasSuffix(">"), let open = address.lastIndex(of: "<") { return String(address[open...]) }
        return "<\(address)>"
    }

    /// The subject with keepalived's `[router_id] ` first.
    public static func subject(_ alert: MailAlert, routerID: String?) -> String {
        routerID.map { "[\($0)] \(alert.subject)" } ?? alert.subject
    }

    /// What follows the server's 354, up to and including the terminating `.` line. `date`
    /// is RFC 5322's (`Mon, 01 Mar 2021 09:44:08 +0000`).
    public static func data(_ alert: MailAlert, settings: MailSettings, date: String) -> String {
        var text = "Date: \(date)\r\nFrom: \(oneLine(settings.from))\r\nSubject: \(oneLine(subject(alert, routerID: settings.routerID)))\r\n"
        text += "X-Mailer: Keepalived\r\nTo:"
        text += settings.recipients.map { " \(oneLine($0))" }.joined(separator: ",\r\n")
        text += "\r\n\r\n"
        // By scalars: "\r\n" is one Character in Swift, and would hide both ends of a line.
        for line in alert.body.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = String(String.UnicodeScalarView(line))
            if line.unicodeScalars.last == "\r" { line = String(String.UnicodeScalarView(line.unicodeScalars.dropLast())) }
            text += (line.hasPrefix(".") ? "." : "") + line + "\r\n"
        }
        return text + "\r\n.\r\n"
    }

    /// A header value cannot carry a line break: one would end the header, or the headers.
    private static func oneLine(_ value: String) -> String {
        String(String.UnicodeScalarView(value.unicodeScalars.map { $0 == "\r" || $0 == "\n" ? " " : $0 }))
    }
}
