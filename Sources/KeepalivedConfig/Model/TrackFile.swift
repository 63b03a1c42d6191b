/// `track_file NAME { file PATH  weight N [reverse]  init_file [VALUE] [overwrite] }`: a file whose
/// number (read as C's strtol reads it: decimal, 0x hex, 0 octal; missing or empty is 0) moves
/// the priority of the VRRP instances and the weight of the real servers that track it.
public struct TrackFile: Sendable, Hashable {
    public var name: String
    public var location: SourceLocation
    public var path: String?
    public var weight: Int?
    public var weightReverse = false
    /// `init_file`: create the file with this value at start-up (nil: the keyword was not given).
    public var initialValue: Int?
    /// `init_file … overwrite`: write it even when the file exists.
    public var overwrite = false

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }

    public static let defaultWeight = 1
}

/// `FILE_CHECK { track_file NAME  weight N [reverse] }` of a real server: the weight, when given,
/// replaces the track_file's own.
public struct FileCheck: Sendable, Hashable {
    public var trackFile: String?
    public var weight: Int?
    public var reverse = false

    public init() {}
}

/// What a tracked file's number does to what tracks it, keepalived's way.
public enum TrackedFileEffect: Sendable, Equatable {
    /// Down (a real server) or FAULT (a VRRP instance).
    case fault
    /// Added to the priority or to the real server's weight.
    case offset(Int)

    /// With weight 0 any number but 0 is a fault (with `reverse`, 0 is); otherwise the number
    /// times the weight (negated by `reverse`) is the offset, and an offset at or below
    /// `faultAt` a fault: -254 for a priority, -65536 for an IPVS weight.
    public static func of(value: Int64, weight: Int, reverse: Bool, faultAt: Int64) -> TrackedFileEffect {
        if weight == 0 { return (value != 0) != reverse ? .fault : .offset(0) }
        let (product, overflow) = value.multipliedReportingOverflow(by: Int64(weight) * (reverse ? -1 : 1))
        if overflow { return ((value < 0) != (weight < 0)) != reverse ? .fault : .offset(Int(Int32.max)) }
        if product <= faultAt { return .fault }
        return .offset(Int(min(product, Int64(Int32.max))))
    }

    /// A file's text as keepalived reads it: leading blanks, a sign, then decimal, `0x` hex or
    /// `0` octal digits up to the first other character; nothing readable is 0. Nil for a number
    /// outside 32 bits (keepalived ignores such a change).
    public static func value(ofFileText text: String) -> Int64? {
        var rest = Substring(text).drop { $0 == " " || $0 == "\t" || $0 == "\n" }
        var sign: Int64 = 1
        if let first = rest.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            rest = rest.dropFirst()
        }
        var radix: Int64 = 10
        if rest.hasPrefix("0x") || rest.hasPrefix("0X") {
            radix = 16
            rest = rest.dropFirst(2)
        } else if rest.hasPrefix("0") {
            radix = 8
        }
        var value: Int64 = 0
        for character in rest {
            guard let digit = character.hexDigitValue, Int64(digit) < radix else { break }
            value = value * radix + Int64(digit)
            if value > Int64(UInt32.max) { return nil }
        }
        value *= sign
        return value < Int64(Int32.min) || value > Int64(Int32.max) + 1 ? nil : value
    }
}
