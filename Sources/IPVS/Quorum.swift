import KeepalivedConfig

/// Whether a virtual server has its quorum: the total weight of its live real servers against
/// `quorum`, with `hysteresis` as a dead band so a pool on the edge does not flap.
public enum Quorum {
    /// Lost or not, given the previous verdict (nil at start-up, when the plain comparison decides).
    public static func isLost(liveWeight: Int, quorum: Int, hysteresis: Int, wasLost: Bool?) -> Bool {
        switch wasLost {
        case nil: return liveWeight < quorum
        case false?: return liveWeight < quorum - hysteresis
        case true?: return liveWeight < quorum + hysteresis
        }
    }

    /// The weight that counts toward the quorum of virtual server `index`.
    public static func liveWeight(of server: VirtualServer, index: Int, isUp: (DesiredTable.RealServerID) -> Bool) -> Int {
        server.realServers.enumerated().reduce(0) { total, entry in
            isUp(DesiredTable.RealServerID(virtualServer: index, realServer: entry.offset)) ? total + entry.element.effectiveWeight : total
        }
    }
}
