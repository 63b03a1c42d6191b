/// global_defs keywords for the kernel's IPVS state beyond the services: the connection sync
/// daemons, the connection timeouts and flushing the table.
extension GlobalDefinitions {
    static let lvsKeywords: [String: KeywordRule<GlobalDefinitions>] = [
        "lvs_sync_daemon": .values(1, nil) { defs, statement, context in
            guard let sync = context.lvsSyncDaemon(statement) else { return }
            defs.lvsSyncDaemon = sync
            defs.lvsSyncDaemonLocation = statement.location
        },
        "lvs_timeouts": .values(2, 6) { defs, statement, context in
            defs.lvsTimeouts = context.lvsTimeouts(statement) ?? defs.lvsTimeouts
        },
        "announce_maintenance_file": .values(1, 1) { defs, statement, context in
            guard statement.arguments[0].hasPrefix("/") else {
                return context.error(statement.location, "announce_maintenance_file needs an absolute path, not '\(statement.arguments[0])'")
            }
            defs.announceMaintenanceFile = statement.arguments[0]
        },
        "lvs_flush": .values(0, 1) { defs, statement, context in defs.lvsFlush = context.boolean(statement) },
        "lvs_flush_on_stop": .values(0, 1) { defs, statement, context in
            switch statement.arguments.first {
            case nil: defs.lvsFlushOnStop = .wholeTable
            case "VS": defs.lvsFlushOnStop = .virtualServers
            case let other?: context.error(statement.location, "lvs_flush_on_stop takes nothing or VS, not '\(other)'")
            }
        },
    ]
}

extension ParseContext {
    /// `lvs_sync_daemon INTERFACE [VRRP_INSTANCE] [inst NAME] [id N] [maxlen N] [port N] [ttl N]
    /// [group ADDRESS]`, and keepalived's old `INTERFACE VRRP_INSTANCE SYNC_ID`. keepalived
    /// ignores a bad option with a message and runs on; here it is an error, so a sync daemon is
    /// never started with settings other than those written.
    mutating func lvsSyncDaemon(_ statement: Statement) -> LVSSyncDaemon? {
        let arguments = statement.arguments
        guard arguments[0].utf8.count <= LVSSyncDaemon.maximumInterfaceLength else {
            error(statement.location, "lvs_sync_daemon interface name '\(arguments[0])' is longer than \(LVSSyncDaemon.maximumInterfaceLength) characters")
            return nil
        }
        var sync = LVSSyncDaemon(interface: arguments[0])
        var valid = true
        var index = 1
        while index < arguments.count {
            let option = arguments[index]
            let named = ["inst", "id", "maxlen", "port", "ttl", "group"].contains(option)
            if named && index + 1 >= arguments.count {
                error(statement.location, "lvs_sync_daemon \(option) needs a value")
                return nil
            }
            switch option {
            case "inst":
                sync.instance = arguments[index + 1]
            case "id":
                sync.syncID = integer(statement, at: index + 1, in: LVSSyncDaemon.syncIDRange, what: "lvs_sync_daemon id")
                valid = valid && sync.syncID != nil
            case "maxlen":
                sync.maxLength = integer(statement, at: index + 1, in: LVSSyncDaemon.maxLengthRange, what: "lvs_sync_daemon maxlen")
                valid = valid && sync.maxLength != nil
            case "port":
                sync.port = port(statement, at: index + 1, what: "lvs_sync_daemon port")
                valid = valid && sync.port != nil
            case "ttl":
                sync.ttl = integer(statement, at: index + 1, in: 1...255, what: "lvs_sync_daemon ttl")
                valid = valid && sync.ttl != nil
            case "group":
                guard let group = address(statement, at: index + 1, what: "lvs_sync_daemon group") else { return nil }
                guard group.isMulticast else {
                    error(statement.location, "lvs_sync_daemon group address \(group) is not multicast")
                    return nil
                }
                sync.group = group
            default:
                // keepalived's older positional form: the instance, then the sync id.
                if index == 1 {
                    sync.instance = option
                } else if index == 2, sync.instance != nil, Int(option) != nil {
                    warning(statement.location, "Please use keyword \"id\" before lvs_sync_daemon SYNCID")
                    sync.syncID = integer(statement, at: index, in: LVSSyncDaemon.syncIDRange, what: "lvs_sync_daemon id")
                    valid = valid && sync.syncID != nil
                } else {
                    error(statement.location, "Unknown option \(option) specified for lvs_sync_daemon")
                    return nil
                }
                index += 1
                continue
            }
            index += 2
        }
        return valid ? sync : nil
    }

    /// `lvs_timeouts [tcp N] [tcpfin N] [udp N]`, seconds.
    mutating func lvsTimeouts(_ statement: Statement) -> LVSTimeouts? {
        var timeouts = LVSTimeouts()
        let arguments = statement.arguments
        var index = 0
        while index < arguments.count {
            let option = arguments[index]
            guard ["tcp", "tcpfin", "udp"].contains(option) else {
                error(statement.location, "Unknown option \(option) specified for lvs_timeouts (tcp, tcpfin or udp)")
                return nil
            }
            guard index + 1 < arguments.count else {
                error(statement.location, "lvs_timeouts \(option) needs a number of seconds")
                return nil
            }
            guard let value = integer(statement, at: index + 1, in: LVSTimeouts.range, what: "lvs_timeouts \(option)") else { return nil }
            switch option {
            case "tcp": timeouts.tcp = value
            case "tcpfin": timeouts.tcpFin = value
            default: timeouts.udp = value
            }
            index += 2
        }
        return timeouts
    }
}
