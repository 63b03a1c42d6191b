import Dispatch
import KeepalivedConfig
import Logging
import DaemonCore

/// One interface with VRRP instances of one address family: its socket, its sender of gratuitous
/// ARPs or Neighbor Advertisements, and the dispatch of received packets to the instance of their VRID. Bad packets are counted by reason and each reason is
/// logged once with its sender; none of them can stop the daemon.
final class InterfaceRuntime: @unchecked Sendable {
    let interface: NetworkInterface
    let family: AddressFamily
    let socket: any VRRPTransport
    /// IPv4 only, while an instance here uses `auth_type AH`: its adverts are IP protocol 51.
    private(set) var authenticationHeaderSocket: VRRPSocket?
    private var authenticationHeaderSource: LoopReadSource?
    private var loop: EventLoop?
    let announcer: AddressAnnouncer
    private(set) var instances: [UInt8: InstanceRuntime] = [:]
    let joinsMulticast: Bool
    private var readSource: LoopReadSource?
    private let logger: Logger
    private(set) var rejected: [String: Int] = [:]
    private var loggedReasons: Set<String> = []

    private let multicastGroup: IPAddress?

    init(interface: NetworkInterface, family: AddressFamily, joinsMulticast: IPAddress?, logger: Logger) throws {
        self.interface = interface
        self.family = family
        self.logger = logger
        self.joinsMulticast = joinsMulticast != nil
        multicastGroup = joinsMulticast
        socket = family == .inet
            ? try VRRPSocket(interface: interface, multicastGroup: joinsMulticast)
            : try VRRPSocket6(interface: interface, multicastGroup: joinsMulticast)
        announcer = try AddressAnnouncer(interface: interface)
    }

    func add(_ instance: InstanceRuntime) throws {
        if instance.authenticator != nil && authenticationHeaderSocket == nil {
            authenticationHeaderSocket = try VRRPSocket(interface: interface, multicastGroup: joinsMulticast ? multicastGroup : nil,
                                                        ipProtocol: IPsecAH.ipProtocol)
            if let loop { watchAuthenticationHeaderSocket(on: loop) }
        }
        instances[instance.virtualRouterID] = instance
    }

    func remove(_ instance: InstanceRuntime) {
        if instances[instance.virtualRouterID] === instance { instances[instance.virtualRouterID] = nil }
    }

    func startReceiving(on loop: EventLoop) {
        self.loop = loop
        readSource = loop.readSource(socket.descriptor) { [weak self] in self?.readable(self?.socket) }
        watchAuthenticationHeaderSocket(on: loop)
    }

    private func watchAuthenticationHeaderSocket(on loop: EventLoop) {
        guard let authenticationHeaderSocket, authenticationHeaderSource == nil else { return }
        authenticationHeaderSource = loop.readSource(authenticationHeaderSocket.descriptor) { [weak self] in
            self?.readable(self?.authenticationHeaderSocket)
        }
    }

    func stopReceiving() {
        readSource?.cancel()
        readSource = nil
        authenticationHeaderSource?.cancel()
        authenticationHeaderSource = nil
        loop = nil
    }

    private func readable(_ socket: (any VRRPTransport)?) {
        guard let socket else { return }
        do {
            while let packet = try socket.receive() {
                handle(packet)
            }
        } catch {
            logger.error("receiving VRRP on \(interface.name): \(error)")
        }
    }

    private func handle(_ packet: ReceivedVRRPPacket) {
        if packet.source == interface.ownAddress(family) { return }
        switch VRRPAdvertisement.decode(packet.payload, pseudoHeader: .init(source: packet.source, destination: packet.destination)) {
        case .failure(let error):
            // keepalived finds the instance by the VRID byte before it checks the rest.
            let payload = packet.payload
            if payload.count >= 2 { instances[payload[payload.startIndex + 1]]?.receivedMalformed(error) }
            count(error.reason, "invalid VRRP packet from \(packet.source) on \(interface.name): \(error)")
        case .success(let advert):
            guard let instance = instances[advert.virtualRouterID] else {
                count("unknown VRID \(advert.virtualRouterID)",
                      "VRRP advertisement from \(packet.source) on \(interface.name) for VRID \(advert.virtualRouterID), which no instance here uses")
                return
            }
            instance.received(advert, from: packet.source, ttl: packet.ttl, age: packet.age, authentication: packet.authentication)
        }
    }

    private func count(_ reason: String, _ message: String) {
        rejected[reason, default: 0] += 1
        if loggedReasons.insert(reason).inserted {
            logger.warning("\(message) (further ones are counted, not logged)")
        }
    }
}
