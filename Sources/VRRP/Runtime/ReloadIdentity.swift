import KeepalivedConfig

/// How a SIGHUP recognises what did not change. Where a block is written in the file does not
/// matter: adding a line above an instance must not restart it.
private let nowhere = SourceLocation(file: "", line: 0)

extension VirtualIPAddress {
    var ignoringLocation: VirtualIPAddress {
        var copy = self
        copy.location = nowhere
        return copy
    }
}

extension VirtualRoute {
    var ignoringLocation: VirtualRoute {
        var copy = self
        copy.location = nowhere
        return copy
    }
}

extension VRRPScript {
    var ignoringLocation: VRRPScript {
        var copy = self
        copy.location = nowhere
        return copy
    }
}

extension VRRPInstance {
    /// The instance as the other routers see it: interface, VRID, version and checksum, authentication,
    /// advert interval, source and destinations. A reload that changes any of it starts the
    /// instance again; one that changes only the rest (addresses, routes, priority, preemption,
    /// trackers, notify scripts, gratuitous ARP settings) is applied to the running instance,
    /// which keeps its state and timers.
    func wireIdentity(globals: GlobalDefinitions) -> VRRPInstance {
        var identity = VRRPInstance(name: name, location: nowhere)
        identity.interface = interface
        identity.virtualRouterID = virtualRouterID
        identity.version = effectiveVersion(globals)
        identity.checksumAsV2 = checksumAsV2 ?? globals.vrrpChecksumAsV2 ?? false
        identity.authentication = authentication.map { var copy = $0; copy.location = nowhere; return copy }
        identity.advertInterval = effectiveAdvertInterval
        identity.unicastSourceIP = unicastSourceIP
        identity.unicastPeers = unicastPeers.map { var copy = $0; copy.location = nowhere; return copy }
        identity.multicastDestination = multicastGroup(globals)
        identity.strictMode = strictMode ?? globals.vrrpStrict ?? false
        identity.useVMAC = useVMAC
        identity.vmacName = virtualMACInterface(globals)
        identity.vmacTransmitsOnBase = vmacTransmitsOnBase
        identity.ipvlan = ipvlan.map { settings in
            var copy = settings
            copy.address?.location = nowhere
            return copy
        }
        return identity
    }
}

extension RoutingRule {
    var ignoringLocation: RoutingRule {
        var copy = self
        copy.location = nowhere
        return copy
    }
}
