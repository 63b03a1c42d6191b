import KeepalivedConfig
import RouteAnnounce

/// announce_route belongs to the checker part: it follows the virtual servers' quorums (and the
/// VRRP instances they are tied to, when the VRRP part runs in this process).
extension RunningDaemon {
    func updateAnnouncer(_ configuration: KeepalivedConfiguration) {
        guard options.runChecker, RouteAnnouncer.isNeeded(by: configuration) else {
            announcer?.stop()
            announcer = nil
            return
        }
        if let announcer {
            announcer.reload(configuration)
            return
        }
        do {
            let announcer = try RouteAnnouncer(configuration: configuration, loop: loop, logger: checkerLogger)
            announcer.quorumHeld = { [weak self] index in self?.ipvs?.hasQuorum(index) ?? false }
            announcer.instanceIsMaster = { [weak self] name in
                self?.vrrp?.states.first(where: { $0.name == name })?.state == .master
            }
            ipvs?.onQuorumChange = { [weak announcer] in announcer?.update() }
            self.announcer = announcer
            announcer.start()
        } catch {
            checkerLogger.error("announce_route: cannot reach the kernel's routing tables: \(error)")
        }
    }
}
