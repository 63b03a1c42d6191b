/// Prometheus' text format for the series /metrics rebuilds at every scrape, written straight
/// into bytes: each family's HELP and TYPE once, then its samples in the order given.
///
/// Why not swift-prometheus' registry for these: a registry adds each new series by copying its
/// family, so creating the 16,000 series of 3,200 real servers took 1.1 s of the loop on the
/// first scrape (release build), and each later scrape 42 ms. Here a family is an index, a
/// series' labels are encoded once however many families share them (a real server has nine),
/// and numbers go into the bytes without a String in between.
struct ExpositionWriter {
    /// A family, by index.
    struct Family {
        fileprivate let index: Int
    }

    private struct Samples {
        let name: [UInt8]
        let type: String
        let help: String
        var bytes: [UInt8] = []
    }
    private var families: [Samples] = []
    private var indexByName: [String: Int] = [:]

    /// The family `name`, made the first time it is asked for.
    mutating func family(_ name: String, _ type: String, _ help: String) -> Family {
        if let index = indexByName[name] { return Family(index: index) }
        indexByName[name] = families.count
        families.append(Samples(name: Array(name.utf8), type: type, help: help))
        return Family(index: families.count - 1)
    }

    /// `{name="value",…}` (nothing without labels), values escaped as the format asks.
    static func labels(_ labels: [(String, String)]) -> [UInt8] {
        guard !labels.isEmpty else { return [] }
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        for (position, (label, text)) in labels.enumerated() {
            if position > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: label.utf8)
            bytes.append(contentsOf: [UInt8(ascii: "="), UInt8(ascii: "\"")])
            bytes.append(contentsOf: escape(text).utf8)
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    mutating func sample(_ family: Family, _ labels: [UInt8], _ value: UInt64) {
        let name = families[family.index].name
        families[family.index].bytes.appendLine(name, labels) { $0.appendDecimal(value) }
    }

    mutating func sample(_ family: Family, _ labels: [UInt8], _ value: Double) {
        let name = families[family.index].name
        if value == value.rounded(), abs(value) < 1e15 {
            let whole = Int64(value)
            families[family.index].bytes.appendLine(name, labels) { bytes in
                if whole < 0 { bytes.append(UInt8(ascii: "-")) }
                bytes.appendDecimal(whole.magnitude)
            }
        } else {
            families[family.index].bytes.appendLine(name, labels) { $0.append(contentsOf: Self.format(value).utf8) }
        }
    }

    mutating func counter<Count: BinaryInteger>(_ name: String, _ help: String, _ labels: [(String, String)], _ value: Count) {
        sample(family(name, "counter", help), Self.labels(labels), UInt64(clamping: value))
    }

    mutating func gauge(_ name: String, _ help: String, _ labels: [(String, String)], _ value: Double) {
        sample(family(name, "gauge", help), Self.labels(labels), value)
    }

    /// A family's HELP and TYPE lines and its samples, as written.
    struct FamilyText {
        let name: String
        let header: [UInt8]
        let samples: [UInt8]
    }

    /// Every family, in the order first asked for.
    var familyTexts: [FamilyText] {
        families.map { family in
            var header = Array("# HELP ".utf8) + family.name
            header += Array(" \(family.help)\n# TYPE ".utf8) + family.name + Array(" \(family.type)\n".utf8)
            return FamilyText(name: String(decoding: family.name, as: UTF8.self), header: header, samples: family.bytes)
        }
    }

    /// The whole text of every family.
    var text: [UInt8] {
        var text: [UInt8] = []
        for family in familyTexts { text += family.header + family.samples }
        return text
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
    /// `name{labels} value` and a line feed.
    fileprivate mutating func appendLine(_ name: [UInt8], _ labels: [UInt8], value: (inout [UInt8]) -> Void) {
        append(contentsOf: name)
        append(contentsOf: labels)
        append(UInt8(ascii: " "))
        value(&self)
        append(UInt8(ascii: "\n"))
    }

    fileprivate mutating func appendDecimal(_ value: UInt64) {
        var divisor: UInt64 = 1
        while value / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            append(UInt8(ascii: "0") + UInt8((value / divisor) % 10))
            divisor /= 10
        }
    }
}
