#if canImport(Glibc)
import Glibc
#endif
import CNetlink
import KeepalivedConfig
import DaemonCore

/// Routing policy rules (`ip rule`) on the same rtnetlink socket. libnl builds the request; what
/// its rule object has no setter for (`not`, suppressors, uid range, tunnel id) is added to the
/// built message before it goes out.
extension RouteNetlink {
    public func addRule(_ rule: RoutingRule) throws {
        try changeRule(rule, add: true)
    }

    public func removeRule(_ rule: RoutingRule) throws {
        try changeRule(rule, add: false)
    }

    private func changeRule(_ model: RoutingRule, add: Bool) throws {
        guard let rule = rtnl_rule_alloc() else { throw SystemError("rtnl_rule_alloc", errno: ENOMEM) }
        defer { rtnl_rule_put(rule) }
        rtnl_rule_set_family(rule, model.family == .inet ? AF_INET : AF_INET6)
        rtnl_rule_set_prio(rule, UInt32(model.effectivePreference))
        var extras: [OpaquePointer] = []
        defer { extras.forEach { nl_addr_put($0) } }
        if let from = model.from, let value = Self.netlinkAddress(from.address, prefixLength: from.length) {
            extras.append(value)
            _ = rtnl_rule_set_src(rule, value)
        }
        if let to = model.to, let value = Self.netlinkAddress(to.address, prefixLength: to.length) {
            extras.append(value)
            _ = rtnl_rule_set_dst(rule, value)
        }
        if let tos = model.tos { rtnl_rule_set_dsfield(rule, UInt8(tos)) }
        if let mark = model.fwmark { rtnl_rule_set_mark(rule, mark) }
        if let mask = model.fwmask { rtnl_rule_set_mask(rule, mask) }
        if let name = model.inputInterface { _ = rtnl_rule_set_iif(rule, name) }
        if let name = model.outputInterface { _ = rtnl_rule_set_oif(rule, name) }
        if let number = model.effectiveProtocol { _ = rtnl_rule_set_protocol(rule, UInt8(number)) }
        if let number = model.ipProtocol { _ = rtnl_rule_set_ipproto(rule, UInt8(number)) }
        if let ports = model.sourcePorts { _ = rtnl_rule_set_sport_range(rule, UInt16(ports.lowerBound), UInt16(ports.upperBound)) }
        if let ports = model.destinationPorts { _ = rtnl_rule_set_dport_range(rule, UInt16(ports.lowerBound), UInt16(ports.upperBound)) }
        if let realms = model.realms { rtnl_rule_set_realms(rule, realms) }
        if model.l3mdev { rtnl_rule_set_l3mdev(rule, 1) }
        let action: UInt32
        switch model.action {
        case .table(let table):
            action = UInt32(FR_ACT_TO_TBL)
            if !model.l3mdev { rtnl_rule_set_table(rule, UInt32(table)) }
        case .goto(let target):
            action = UInt32(FR_ACT_GOTO)
            rtnl_rule_set_goto(rule, UInt32(target))
        case .nop: action = UInt32(FR_ACT_NOP)
        case .blackhole: action = UInt32(FR_ACT_BLACKHOLE)
        case .unreachable: action = UInt32(FR_ACT_UNREACHABLE)
        case .prohibit: action = UInt32(FR_ACT_PROHIBIT)
        }
        rtnl_rule_set_action(rule, UInt8(action))

        var message: OpaquePointer?
        let built = add ? rtnl_rule_build_add_request(rule, NLM_F_CREATE | NLM_F_EXCL, &message)
            : rtnl_rule_build_delete_request(rule, 0, &message)
        guard built >= 0, let message else { throw Self.error("build rule request", built) }
        do {
            try Self.addMissingAttributes(model, to: message)
        } catch {
            nlmsg_free(message)
            throw error
        }
        // nl_send_sync sends, waits for the kernel's acknowledgement and frees the message.
        let result = nl_send_sync(socket, message)
        guard result >= 0 else { throw Self.error(add ? "add rule \(model.effectivePreference)" : "delete rule \(model.effectivePreference)", result) }
    }

    private static func addMissingAttributes(_ model: RoutingRule, to message: OpaquePointer) throws {
        if model.invert, let header = nlmsg_data(nlmsg_hdr(message)) {
            let flags = header.assumingMemoryBound(to: fib_rule_hdr.self)
            flags.pointee.flags |= UInt32(FIB_RULE_INVERT)
        }
        var results: [Int32] = []
        if let length = model.suppressPrefixLength { results.append(nla_put_u32(message, Int32(FRA_SUPPRESS_PREFIXLEN), UInt32(length))) }
        if let group = model.suppressInterfaceGroup { results.append(nla_put_u32(message, Int32(FRA_SUPPRESS_IFGROUP), UInt32(group))) }
        if let tunnel = model.tunnelID { results.append(nla_put_u64(message, Int32(FRA_TUN_ID), tunnel.bigEndian)) }
        if let range = model.uidRange {
            var value = fib_rule_uid_range(start: range.lowerBound, end: range.upperBound)
            results.append(nla_put(message, Int32(FRA_UID_RANGE), Int32(MemoryLayout<fib_rule_uid_range>.size), &value))
        }
        if let failed = results.first(where: { $0 < 0 }) { throw error("nla_put(rule attribute)", failed) }
    }
}
