import DaemonCore
import KeepalivedConfig

extension ScriptRunner {
    /// keepalived's notify calls: notify_STATE with no arguments, and `notify` with
    /// `INSTANCE NAME STATE PRIORITY`.
    func notify(instance: VRRPInstance, state: VRRPState, priority: Int) {
        notify(instance.notify, state: state, arguments: ["INSTANCE", instance.name, state.rawValue, String(priority)])
    }

    /// A sync group's notify_STATE, and `notify` with `GROUP NAME STATE`.
    func notify(group: VRRPSyncGroup, state: VRRPState) {
        notify(group.notify, state: state, arguments: ["GROUP", group.name, state.rawValue])
    }

    func notify(_ scripts: NotifyScripts, state: VRRPState, arguments: [String]) {
        if let specific = scripts.command(for: state) { run(specific, timeout: 60) { _ in } }
        if let any = scripts.any { run(any, extraArguments: arguments, timeout: 60) { _ in } }
    }
}

extension NotifyScripts {
    /// The notify_STATE script for `state`, if configured.
    func command(for state: VRRPState) -> ScriptCommand? {
        switch state {
        case .master: return master
        case .backup: return backup
        case .fault: return fault
        case .stopped: return stop
        case .initialize: return nil
        }
    }
}
