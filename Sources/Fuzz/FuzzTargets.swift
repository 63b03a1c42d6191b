import KeepalivedConfig
import VRRP

/// What the fuzzer feeds: the config reader (a whole keepalived.conf, checked and dumped) or the
/// advert decoder (a VRRP packet, with its checksum made right so the fuzzer gets past it, then
/// the instance's checks). Either must answer any input without a crash, a hang or a leak.
enum FuzzTarget: String, CaseIterable {
    case config
    case advert

    func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .config: Self.readConfig(bytes)
        case .advert: Self.decodeAdvert(bytes)
        }
    }

    private static let path = "/fuzz/keepalived.conf"

    private static func readConfig(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        // Included files name the same text, so include paths are followed too.
        let files = [path: text, "/fuzz/included.conf": text]
        let options = ConfigLoadOptions(fileSystem: InMemoryFileSystem(files: files), configID: "fuzz", interfaceExists: nil)
        let loaded = ConfigLoader.load(path: path, options: options)
        if !loaded.diagnostics.hasErrors { _ = ConfigDump.render(loaded.configuration) }
    }

    private static let check = AdvertisementCheck(authenticationType: .simpleText, password: "secret", advertisementInterval: 1,
                                                  addresses: [.v4(0xC000_02C8)], checksAddresses: true, requiredTTL: 255)

    private static func decodeAdvert(_ bytes: UnsafeRawBufferPointer) {
        var packet = Array(bytes)
        if packet.count >= 8 {
            // The checksum over the length the packet claims (or all of it), as a sender makes it.
            let claimed = min(packet.count, 8 + 4 * Int(packet[3]) + 8)
            packet[6] = 0
            packet[7] = 0
            let sum = InternetChecksum.compute(packet[0..<claimed])
            packet[6] = UInt8(sum >> 8)
            packet[7] = UInt8(sum & 0xFF)
        }
        guard case .success(let advert) = VRRPAdvertisement.decode(packet[...]) else { return }
        _ = check.rejection(of: advert, ttl: packet.first ?? 255)
        // What decodes must encode back to the bytes it came from.
        let again = advert.encoded()
        guard case .success(let back) = VRRPAdvertisement.decode(again[...]), back.addresses == advert.addresses,
              back.virtualRouterID == advert.virtualRouterID, back.priority == advert.priority else {
            preconditionFailure("an advert that decodes does not survive encoding: \(advert)")
        }
    }
}
