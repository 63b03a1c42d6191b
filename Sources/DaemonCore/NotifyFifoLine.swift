import KeepalivedConfig

/// The lines keepalived writes to its notify FIFOs, each ended by a newline.
public enum NotifyFifoLine {
    /// `INSTANCE "VI_1" MASTER 100`: an instance's new state and its priority.
    public static func instance(_ name: String, state: String, priority: Int) -> String {
        "INSTANCE \"\(name)\" \(state) \(priority)\n"
    }

    /// `GROUP "G1" MASTER 0`: a sync group's state (keepalived gives groups priority 0).
    public static func group(_ name: String, state: String) -> String {
        "GROUP \"\(name)\" \(state) 0\n"
    }

    /// `VS [192.0.2.10]:tcp:80 UP`: a virtual server's quorum gained or lost.
    public static func virtualServer(_ service: String, up: Bool) -> String {
        "VS \(service) \(up ? "UP" : "DOWN")\n"
    }

    /// `RS [198.51.100.1]:tcp:80 [192.0.2.10]:tcp:80 DOWN`: a real server's health.
    public static func realServer(_ server: String, of service: String, up: Bool) -> String {
        "RS \(server) \(service) \(up ? "UP" : "DOWN")\n"
    }
}

/// Which FIFOs the daemon opens and which events each gets, after keepalived's rules for FIFOs
/// that share a path: the global FIFO gets every event, `vrrp_notify_fifo` the instances' and
/// groups', `lvs_notify_fifo` the virtual and real servers'. A vrrp or LVS FIFO on the global
/// one's path is ignored; an LVS FIFO on the vrrp one's path, both with scripts, loses its script.
public struct NotifyFifoPlan: Sendable, Equatable {
    public enum Source: Sendable, Hashable { case vrrp, lvs }

    public struct Fifo: Sendable, Equatable {
        public var path: String
        public var user: String?
        public var group: String?
        public var script: ScriptCommand?
        /// Its keyword's prefix in log lines: "", "vrrp_" or "lvs_".
        public var kind: NotifyFifoKind
        public var sources: Set<Source>
    }

    public private(set) var fifos: [Fifo] = []

    /// `vrrp` and `lvs`: which parts run (a FIFO of a part that does not run is not opened).
    public init(_ settings: ProcessSettings, vrrp: Bool, lvs: Bool) {
        var global = settings.fifo(.global)
        var vrrpFifo = settings.fifo(.vrrp)
        var lvsFifo = settings.fifo(.lvs)
        if let path = global.path, vrrpFifo.path == path { vrrpFifo = NotifyFifoSettings() }
        if let path = global.path, lvsFifo.path == path { lvsFifo = NotifyFifoSettings() }
        if let path = lvsFifo.path, vrrpFifo.path == path, lvsFifo.script != nil, vrrpFifo.script != nil { lvsFifo.script = nil }
        if !vrrp { vrrpFifo = NotifyFifoSettings() }
        if !lvs { lvsFifo = NotifyFifoSettings() }
        if !vrrp && !lvs { global = NotifyFifoSettings() }
        var globalSources: Set<Source> = []
        if vrrp { globalSources.insert(.vrrp) }
        if lvs { globalSources.insert(.lvs) }
        for (settings, kind, sources) in [(global, NotifyFifoKind.global, globalSources), (vrrpFifo, .vrrp, [.vrrp]), (lvsFifo, .lvs, [.lvs])] {
            guard let path = settings.path else { continue }
            if let index = fifos.firstIndex(where: { $0.path == path }) {
                // One process writes both parts' lines into the one FIFO keepalived's two opened.
                fifos[index].sources.formUnion(sources)
                if fifos[index].script == nil { fifos[index].script = settings.script }
                continue
            }
            fifos.append(Fifo(path: path, user: settings.user, group: settings.group, script: settings.script, kind: kind, sources: sources))
        }
    }
}
