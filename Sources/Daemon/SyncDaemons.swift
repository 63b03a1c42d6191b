import IPVS
import KeepalivedConfig
import VRRP

/// Which part owns the IPVS sync daemons, as in keepalived: the VRRP part when an instance is
/// named (the daemons follow its state), the checker part otherwise (both daemons always run).
extension RunningDaemon {
    func updateSyncDaemons(_ configuration: KeepalivedConfiguration) {
        guard let wanted = configuration.effectiveLVSSyncDaemon,
              wanted.instance != nil ? options.runVRRP && vrrp != nil : options.runChecker else {
            syncDaemons?.stop()
            syncDaemons = nil
            return
        }
        if let running = syncDaemons {
            running.reload(wanted)
        } else {
            do {
                let sync = try SyncDaemonRuntime(settings: wanted, logger: wanted.instance != nil ? vrrpLogger : checkerLogger)
                syncDaemons = sync
                sync.start()
            } catch {
                logger.error("cannot start the IPVS sync daemons: \(error)")
                return
            }
        }
        // An instance that is already MASTER (a reload naming another instance, say) decides now.
        if let name = wanted.instance, let state = vrrp?.states.first(where: { $0.name == name })?.state {
            syncDaemons?.instanceIsMaster(state == .master)
        }
    }
}
