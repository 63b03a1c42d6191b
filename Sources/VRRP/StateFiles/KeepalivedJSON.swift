/// The little JSON keepalived's json_writer writes: compact, keys in the writer's order,
/// floats as C's `%g` (or `%f` where keepalived asks for it).
indirect enum KeepalivedJSON {
    case string(String)
    case integer(Int)
    /// A number written as given (already formatted like C's printf).
    case number(String)
    case bool(Bool)
    case array([KeepalivedJSON])
    case object([(String, KeepalivedJSON)])

    /// C's `%g` for the values state files hold: integral values without a point, others in
    /// their shortest form.
    static func float(_ value: Double) -> KeepalivedJSON {
        if value == value.rounded(), abs(value) < 1e6 { return .number(String(Int(value))) }
        return .number(String(value))
    }

    var text: String {
        switch self {
        case .string(let value): return Self.quoted(value)
        case .integer(let value): return String(value)
        case .number(let value): return value
        case .bool(let value): return value ? "true" : "false"
        case .array(let values): return "[" + values.map(\.text).joined(separator: ",") + "]"
        case .object(let fields): return "{" + fields.map { Self.quoted($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        }
    }

    private static func quoted(_ value: String) -> String {
        var text = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\t": text += "\\t"
            case "\r": text += "\\r"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        return text + "\""
    }
}
