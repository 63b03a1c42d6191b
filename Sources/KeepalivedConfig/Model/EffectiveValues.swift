extension HealthChecker {
    /// The timing this checker runs with: its own settings, else its real server's, else its
    /// virtual server's, else keepalived's defaults (warmup defaults to the resulting delay_loop).
    public func effectiveTiming(realServer: RealServer, virtualServer: VirtualServer) -> CheckTiming {
        let configured = timing.overriding(realServer.timing).overriding(virtualServer.timing)
        let delayLoop = configured.delayLoop ?? 60
        return configured.overriding(Self.defaultTiming(for: kind, delayLoop: delayLoop))
    }
}

extension RealServer {
    /// The port connections go to: the one written, else the virtual server's (0 for fwmark services).
    public func effectivePort(in virtualServer: VirtualServer) -> Int {
        if let port { return port }
        if case .address(_, let servicePort) = virtualServer.key { return servicePort }
        return 0
    }

    public func effectiveInhibitOnFailure(in virtualServer: VirtualServer) -> Bool {
        inhibitOnFailure ?? virtualServer.inhibitOnFailure ?? false
    }

    public func effectiveForwardingMethod(in virtualServer: VirtualServer) -> LVSForwardingMethod {
        forwardingMethod ?? virtualServer.effectiveForwardingMethod
    }
}
