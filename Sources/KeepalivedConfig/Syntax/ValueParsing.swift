/// Value parsers for keyword handlers. Each reports a located error naming the keyword and the
/// accepted values, and returns nil, so the caller simply leaves the setting unset.
extension ParseContext {
    /// `what` names the value in an error; built only when there is one (tens of thousands of
    /// real servers each have a port).
    mutating func integer(_ statement: Statement, at index: Int = 0, in range: ClosedRange<Int>, what: @autoclosure () -> String? = nil) -> Int? {
        let text = statement.arguments[index]
        var name: String { what() ?? statement.keyword }
        guard let value = Int(text) else {
            error(statement.location, "\(name) must be a whole number in \(range.lowerBound)-\(range.upperBound), not '\(text)'")
            return nil
        }
        guard range.contains(value) else {
            error(statement.location, "\(name) \(value) is out of range \(range.lowerBound)-\(range.upperBound)")
            return nil
        }
        return value
    }

    /// A time in seconds, fractions allowed (keepalived's <TIMER>).
    mutating func seconds(_ statement: Statement, at index: Int = 0, in range: ClosedRange<Double> = 0...Double(UInt32.max)) -> Double? {
        let text = statement.arguments[index]
        guard let value = Double(text), value.isFinite, !text.hasPrefix("+"), text.first != "." || text.count > 1 else {
            error(statement.location, "\(statement.keyword) must be a number of seconds, not '\(text)'")
            return nil
        }
        guard range.contains(value) else {
            error(statement.location, "\(statement.keyword) \(text) is out of range \(formatSeconds(range.lowerBound))-\(formatSeconds(range.upperBound)) seconds")
            return nil
        }
        return value
    }

    /// keepalived's <BOOL>; the keyword alone means true.
    mutating func boolean(_ statement: Statement, at index: Int = 0) -> Bool? {
        guard index < statement.arguments.count else { return true }
        switch statement.arguments[index].lowercased() {
        case "on", "true", "yes": return true
        case "off", "false", "no": return false
        default:
            error(statement.location, "\(statement.keyword) takes on|off|true|false|yes|no, not '\(statement.arguments[index])'")
            return nil
        }
    }

    mutating func address(_ statement: Statement, at index: Int = 0, what: @autoclosure () -> String? = nil) -> IPAddress? {
        let text = statement.arguments[index]
        guard let address = IPAddress(text) else {
            error(statement.location, "'\(text)' is not a valid IPv4 or IPv6 address (\(what() ?? statement.keyword))")
            return nil
        }
        return address
    }

    mutating func port(_ statement: Statement, at index: Int, what: @autoclosure () -> String = "port") -> Int? {
        integer(statement, at: index, in: 1...65535, what: what())
    }

    /// One of an enumeration's words; `caseInsensitive` for words keepalived compares that way.
    mutating func word<Value: RawRepresentable & CaseIterable>(_ statement: Statement, at index: Int = 0, as type: Value.Type,
                                                      caseInsensitive: Bool = true) -> Value? where Value.RawValue == String {
        let text = statement.arguments[index]
        if let match = Value.allCases.first(where: { caseInsensitive ? $0.rawValue.lowercased() == text.lowercased() : $0.rawValue == text }) {
            return match
        }
        let accepted = Value.allCases.map(\.rawValue).joined(separator: " ")
        error(statement.location, "unknown \(statement.keyword) '\(text)'; expected one of: \(accepted)")
        return nil
    }

    /// `KEYWORD COMMAND [USER [GROUP]]`.
    mutating func script(_ statement: Statement) -> ScriptCommand? {
        let command = statement.arguments[0]
        guard !command.isEmpty else {
            error(statement.location, "\(statement.keyword) needs a command")
            return nil
        }
        return ScriptCommand(command: command,
                             user: statement.arguments.count > 1 ? statement.arguments[1] : nil,
                             group: statement.arguments.count > 2 ? statement.arguments[2] : nil)
    }

    /// An address with an optional `/prefix`, as in `virtual_ipaddress` and routes.
    mutating func prefixedAddress(_ text: String, _ statement: Statement) -> (IPAddress, Int?)? {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else {
            error(statement.location, "'\(text)' is not a valid IPv4 or IPv6 address")
            return nil
        }
        guard parts.count == 2 else { return (address, nil) }
        guard let length = Int(parts[1]), (0...address.maximumPrefixLength).contains(length) else {
            error(statement.location, "'\(text)': prefix length must be 0-\(address.maximumPrefixLength)")
            return nil
        }
        return (address, length)
    }
}

/// Seconds printed without a trailing `.0` when whole (`3`, `0.5`).
func formatSeconds(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
    return String(value)
}
