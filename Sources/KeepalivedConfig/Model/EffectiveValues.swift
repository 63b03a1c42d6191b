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
        if case .address(_, let servicePort) = virtualServer.key { return effectivePort(in: virtualServer, servicePort: servicePort) }
        return effectivePort(in: virtualServer, servicePort: 0)
    }

    /// The port IPVS forwards to, for a service on `servicePort` (0 for a firewall mark). DR and
    /// TUN cannot change the destination port, so keepalived forwards to the service's port
    /// there whatever the file says (the validator warns).
    public func effectivePort(in virtualServer: VirtualServer, servicePort: Int) -> Int {
        if servicePort != 0 && effectiveForwardingMethod(in: virtualServer) != .nat { return servicePort }
        return port ?? servicePort
    }

    public func effectiveInhibitOnFailure(in virtualServer: VirtualServer) -> Bool {
        inhibitOnFailure ?? virtualServer.inhibitOnFailure ?? false
    }

    public func effectiveForwardingMethod(in virtualServer: VirtualServer) -> LVSForwardingMethod {
        forwardingMethod ?? virtualServer.effectiveForwardingMethod
    }
}

// MARK: Mail alerts

/// Whether mail goes out for an object, as keepalived decides it once the file is read: the
/// object's own `smtp_alert`, else the part's global default (`smtp_alert_vrrp` or
/// `smtp_alert_checker`), else the global `smtp_alert`, else keepalived's default for that kind
/// of object. Mail is sent only when `notification_email` and `smtp_server` are set besides.
extension GlobalDefinitions {
    func smtpAlertDefault(forVRRP: Bool) -> Bool? {
        (forVRRP ? smtpAlertVRRP : smtpAlertChecker) ?? smtpAlert
    }

    /// Both a recipient and a server: without either keepalived sends nothing.
    public var sendsMail: Bool {
        !notificationEmail.isEmpty && smtpServer != nil
    }
}

extension VRRPInstance {
    public func effectiveSMTPAlert(_ globals: GlobalDefinitions) -> Bool {
        smtpAlert ?? globals.smtpAlertDefault(forVRRP: true) ?? false
    }
}

extension VRRPSyncGroup {
    public func effectiveSMTPAlert(_ globals: GlobalDefinitions) -> Bool {
        smtpAlert ?? globals.smtpAlertDefault(forVRRP: true) ?? false
    }
}

extension VirtualServer {
    public func effectiveSMTPAlert(_ globals: GlobalDefinitions) -> Bool {
        smtpAlert ?? globals.smtpAlertDefault(forVRRP: false) ?? false
    }
}

extension RealServer {
    /// keepalived 2.4.3 defaults real servers to on (its source calls this inconsistent with the
    /// other defaults, and keeps it).
    public func effectiveSMTPAlert(_ globals: GlobalDefinitions) -> Bool {
        smtpAlert ?? globals.smtpAlertDefault(forVRRP: false) ?? true
    }
}
