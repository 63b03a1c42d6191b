/// Prometheus' text format for the series /metrics rebuilds at every scrape, written straight
/// into bytes: each family's HELP and TYPE once, then its samples in the order given.
///
/// Why not swift-prometheus' registry for these: a registry adds each new series by copying its
/// family, so creating the 16,000 series of 3,200 real servers took 1.1 s of the loop on the
/// first scrape (release build), and each later scrape 42 ms; written here, a scrape of the
/// same state takes a few milliseconds and holds nothing between scrapes.
struct ExpositionWriter {
    private struct Family {
        let type: String
        let help: String
        var samples: [UInt8] = []
    }
    private var order: [String] = []
    private var families: [String: Family] = [:]

    mutating func counter<Count: BinaryInteger>(_ name: String, _ help: String, _ labels: [(String, String)], _ value: Count) {
        add(name, "counter", help, labels, String(value))
    }

    mutating func gauge(_ name: String, _ help: String, _ labels: [(String, String)], _ value: Double) {
        add(name, "gauge", help, labels, Self.format(value))
    }

    /// Appends one sample line; the family is found once per name, the line built in bytes.
    private mutating func add(_ name: String, _ type: String, _ help: String, _ labels: [(String, String)], _ value: String) {
        if families[name] == nil {
            order.append(name)
            families[name] = Family(type: type, help: help)
        }
        families[name]!.samples.withLine(name, labels, value)
    }

    func write(into buffer: inout [UInt8]) {
        for name in order {
            guard let family = families[name] else { continue }
            buffer.append(contentsOf: "# HELP \(name) \(family.help)\n# TYPE \(name) \(family.type)\n".utf8)
            buffer.append(contentsOf: family.samples)
        }
    }

    /// A label value with backslash, double quote and line feed escaped, as the format asks.
    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }) else { return text }
        var escaped = ""
        for character in text {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}

extension [UInt8] {
    /// `name{label="value",…} value` and a line feed.
    fileprivate mutating func withLine(_ name: String, _ labels: [(String, String)], _ value: String) {
        append(contentsOf: name.utf8)
        if !labels.isEmpty {
            append(UInt8(ascii: "{"))
            var first = true
            for (label, text) in labels {
                if !first { append(UInt8(ascii: ",")) }
                first = false
                append(contentsOf: label.utf8)
                append(contentsOf: [UInt8(ascii: "="), UInt8(ascii: "\"")])
                append(contentsOf: ExpositionWriter.escape(text).utf8)
                append(UInt8(ascii: "\""))
            }
            append(UInt8(ascii: "}"))
        }
        append(UInt8(ascii: " "))
        append(contentsOf: value.utf8)
        append(UInt8(ascii: "\n"))
    }
}
