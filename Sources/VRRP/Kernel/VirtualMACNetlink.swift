#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet
import CNetlink
import KeepalivedConfig
import DaemonCore

/// use_vmac's interface: a macvlan in private mode on the instance's interface, with the virtual
/// router's MAC (RFC 3768 section 7.3, RFC 5798 section 7.3), created up; use_ipvlan's: an
/// ipvlan in L2 mode (the interface's own MAC).
extension RouteNetlink {
    /// 00:00:5e:00:01:VRID for IPv4, 00:00:5e:00:02:VRID for IPv6.
    public static func virtualMAC(virtualRouterID: UInt8, family: AddressFamily) -> [UInt8] {
        [0x00, 0x00, 0x5E, 0x00, family == .inet ? 0x01 : 0x02, virtualRouterID]
    }

    /// Created up, or down when `up` is false (to be set up with `setLinkUp` after its IPv6
    /// settings, which the kernel applies when the link comes up).
    public func addVirtualMAC(name: String, on baseIndex: Int32, address: [UInt8], up: Bool = true) throws {
        guard let link = rtnl_link_macvlan_alloc() else { throw SystemError("rtnl_link_macvlan_alloc", errno: ENOMEM) }
        defer { rtnl_link_put(link) }
        rtnl_link_set_name(link, name)
        rtnl_link_set_link(link, baseIndex)
        guard let mac = address.withUnsafeBytes({ nl_addr_build(AF_LLC, $0.baseAddress, $0.count) }) else {
            throw SystemError("nl_addr_build(MAC)", errno: ENOMEM)
        }
        defer { nl_addr_put(mac) }
        rtnl_link_set_addr(link, mac)
        _ = rtnl_link_macvlan_set_mode(link, UInt32(MACVLAN_MODE_PRIVATE.rawValue))
        if up { rtnl_link_set_flags(link, UInt32(IFF_UP)) }
        let result = rtnl_link_add(socket, link, NLM_F_CREATE | NLM_F_EXCL)
        guard result >= 0 else { throw Self.error("add macvlan \(name)", result) }
    }

    public func setLinkUp(name: String) throws {
        var found: OpaquePointer?
        let lookup = rtnl_link_get_kernel(socket, 0, name, &found)
        guard lookup >= 0, let link = found else { throw Self.error("find link \(name)", lookup) }
        defer { rtnl_link_put(link) }
        guard let change = rtnl_link_alloc() else { throw SystemError("rtnl_link_alloc", errno: ENOMEM) }
        defer { rtnl_link_put(change) }
        rtnl_link_set_flags(change, UInt32(IFF_UP))
        let result = rtnl_link_change(socket, link, change, 0)
        guard result >= 0 else { throw Self.error("set \(name) up", result) }
    }

    /// An ipvlan in L2 mode with IFLA_IPVLAN_FLAGS `flags` (0 bridge, 1 private, 2 vepa), up.
    /// libnl sets no ipvlan flags, so the request is written here with its message calls.
    public func addIPVLAN(name: String, on baseIndex: Int32, flags: UInt16, up: Bool = true) throws {
        guard let message = nlmsg_alloc_simple(Int32(RTM_NEWLINK), NLM_F_CREATE | NLM_F_EXCL) else {
            throw SystemError("nlmsg_alloc_simple", errno: ENOMEM)
        }
        var header = ifinfomsg()
        header.ifi_family = UInt8(AF_UNSPEC)
        if up {
            header.ifi_flags = UInt32(IFF_UP)
            header.ifi_change = UInt32(IFF_UP)
        }
        var built = nlmsg_append(message, &header, MemoryLayout<ifinfomsg>.size, Int32(NLMSG_ALIGNTO))
        if built >= 0 { built = nla_put_u32(message, Int32(IFLA_LINK), UInt32(baseIndex)) }
        if built >= 0 { built = nla_put_string(message, Int32(IFLA_IFNAME), name) }
        if built >= 0, let info = nla_nest_start(message, Int32(IFLA_LINKINFO)) {
            built = nla_put_string(message, Int32(IFLA_INFO_KIND), "ipvlan")
            if built >= 0, let data = nla_nest_start(message, Int32(IFLA_INFO_DATA)) {
                built = nla_put_u16(message, Int32(IFLA_IPVLAN_MODE), UInt16(IPVLAN_MODE_L2.rawValue))
                if built >= 0 { built = nla_put_u16(message, Int32(IFLA_IPVLAN_FLAGS), flags) }
                _ = nla_nest_end(message, data)
            }
            _ = nla_nest_end(message, info)
        }
        guard built >= 0 else {
            nlmsg_free(message)
            throw Self.error("build ipvlan request", built)
        }
        // nl_send_sync sends, waits for the kernel's acknowledgement and frees the message.
        let result = nl_send_sync(socket, message)
        guard result >= 0 else { throw Self.error("add ipvlan \(name)", result) }
    }

    /// Deletes the link `name` if it is a macvlan or ipvlan (a VMAC or ipvlan this daemon, or a
    /// killed one, made); true when one was deleted.
    @discardableResult
    public func removeVirtualMAC(name: String) throws -> Bool {
        var found: OpaquePointer?
        guard rtnl_link_get_kernel(socket, 0, name, &found) >= 0, let link = found else { return false }
        defer { rtnl_link_put(link) }
        guard let kind = rtnl_link_get_type(link), ["macvlan", "ipvlan"].contains(String(cString: kind)) else { return false }
        let result = rtnl_link_delete(socket, link)
        guard result >= 0 else { throw Self.error("delete macvlan \(name)", result) }
        return true
    }
}
