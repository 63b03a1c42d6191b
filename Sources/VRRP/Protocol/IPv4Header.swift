import KeepalivedConfig

/// The IPv4 header VRRP sockets write themselves (IP_HDRINCL): TTL 255, precedence "internetwork
/// control" and the instance's own source address, as keepalived sends. The kernel fills in the
/// checksum, and the identification when it is left 0.
public enum IPv4Header {
    public static let length = 20

    public static func build(source: UInt32, destination: UInt32, ipProtocol: Int32, payloadLength: Int,
                             identification: UInt16 = 0) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: length)
        header[0] = 0x45
        header[1] = 0xC0
        let total = length + payloadLength
        header[2] = UInt8(truncatingIfNeeded: total >> 8)
        header[3] = UInt8(truncatingIfNeeded: total)
        header[4] = UInt8(identification >> 8)
        header[5] = UInt8(identification & 0xFF)
        header[8] = 255
        header[9] = UInt8(ipProtocol)
        for shift in 0..<4 {
            header[12 + shift] = UInt8(truncatingIfNeeded: source >> (24 - 8 * shift))
            header[16 + shift] = UInt8(truncatingIfNeeded: destination >> (24 - 8 * shift))
        }
        return header
    }
}
