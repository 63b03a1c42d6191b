import DaemonCore
import KeepalivedConfig

/// keepalived's pass over every script before the parts start (and again on reload): each is
/// resolved to the user it runs as and checked (`ScriptCheck`); a script that is missing, not
/// executable, or (with `enable_script_security`) changeable by someone other than root is
/// removed from the configuration the parts get, with keepalived's log lines. A tracked script
/// removed this way is no longer tracked, a MISC_CHECK removed this way no longer checks.
struct ScriptVetting {
    enum Part { case parent, vrrp, checkers }

    let security: Bool
    private let scriptUser: ScriptCommand?
    /// The default user's credentials once looked up (nil inside: it could not be set, and
    /// scripts without a user of their own are then ignored, as keepalived ignores them).
    private var resolvedDefault: ScriptCredentials??
    private(set) var lines: [(Part, String)] = []
    private var found = false
    private var insecure = false

    init(globalDefs: GlobalDefinitions) {
        security = globalDefs.enableScriptSecurity ?? false
        scriptUser = globalDefs.scriptUser
    }

    /// The default user's credentials if some script or FIFO needed them; nil otherwise or
    /// when they could not be set.
    var defaultCredentials: ScriptCredentials? { resolvedDefault ?? nil }

    /// keepalived's default script user: `script_user`, else `keepalived_script` if it exists,
    /// else the daemon's own user (but not under script security, where that is an error).
    /// Looked up when first needed, as keepalived does, so its complaints come only then.
    private mutating func defaultUser() -> ScriptCredentials? {
        if let resolvedDefault { return resolvedDefault }
        let credentials: ScriptCredentials?
        if let configured = scriptUser, let user = configured.user {
            do {
                credentials = try UserDatabase.credentials(user: user, group: configured.group)
            } catch {
                lines.append((.parent, "\(error)"))
                lines.append((.parent, "Error setting global script uid/gid"))
                credentials = nil
            }
        } else {
            do {
                credentials = try UserDatabase.credentials(user: Self.defaultUser, group: nil)
            } catch {
                lines.append((.parent, "\(error)"))
                if security {
                    lines.append((.parent, "Unable to set default user \(Self.defaultUser) for script"))
                    credentials = nil
                } else {
                    credentials = .current
                }
            }
        }
        resolvedDefault = .some(credentials)
        return credentials
    }

    static let defaultUser = "keepalived_script"

    /// The configuration with every script that may not run removed, for the parts `vrrp` and
    /// `checkers` say will run.
    mutating func vet(_ configuration: KeepalivedConfiguration, vrrp: Bool, checkers: Bool) -> KeepalivedConfiguration {
        var config = configuration
        // A FIFO without a user of its own belongs to the default script user.
        if config.globalDefs.process.notifyFifos.values.contains(where: { $0.path != nil && $0.user == nil }) { _ = defaultUser() }
        vetProcessScripts(&config.globalDefs.process)
        if vrrp && !config.vrrpInstances.isEmpty { vetVRRP(&config) }
        if checkers && !config.virtualServers.isEmpty { vetCheckers(&config, vrrpRuns: vrrp && !config.vrrpInstances.isEmpty) }
        return config
    }

    private mutating func vetProcessScripts(_ process: inout ProcessSettings) {
        (found, insecure) = (false, false)
        process.startupScript = keep(process.startupScript, kind: "startup", part: .parent)
        process.shutdownScript = keep(process.shutdownScript, kind: "shutdown", part: .parent)
        violation("start/shutdown scripts", part: .parent)
    }

    private mutating func vetVRRP(_ config: inout KeepalivedConfiguration) {
        (found, insecure) = (false, false)
        var disabled: Set<String> = []
        for index in config.vrrpScripts.indices {
            guard let command = config.vrrpScripts[index].script else { continue }
            let name = config.vrrpScripts[index].name
            switch verdict(command, part: .vrrp) {
            case .runs: continue
            case .inhibited: lines.append((.vrrp, "Disabling track script \(name) due to insecure"))
            case .notFound: lines.append((.vrrp, "Disabling track script \(name) since not found/accessible"))
            case .notExecutable: break
            }
            disabled.insert(name)
        }
        config.vrrpScripts.removeAll { disabled.contains($0.name) }
        for index in config.vrrpInstances.indices {
            config.vrrpInstances[index].trackScripts.removeAll { disabled.contains($0.name) }
            vet(&config.vrrpInstances[index].notify)
        }
        for index in config.syncGroups.indices {
            config.syncGroups[index].trackScripts.removeAll { disabled.contains($0.name) }
            vet(&config.syncGroups[index].notify)
        }
        for kind in [NotifyFifoKind.global, .vrrp] {
            let kept = keep(config.globalDefs.process.fifo(kind).script, kind: kind.keyword, part: .vrrp)
            config.globalDefs.process.notifyFifos[kind]?.script = kept
        }
        violation("scripts", part: .vrrp)
    }

    private mutating func vet(_ notify: inout NotifyScripts) {
        notify.master = keep(notify.master, kind: "notify", part: .vrrp)
        notify.backup = keep(notify.backup, kind: "notify", part: .vrrp)
        notify.fault = keep(notify.fault, kind: "notify", part: .vrrp)
        notify.stop = keep(notify.stop, kind: "notify", part: .vrrp)
        notify.any = keep(notify.any, kind: "notify", part: .vrrp)
    }

    private mutating func vetCheckers(_ config: inout KeepalivedConfiguration, vrrpRuns: Bool) {
        (found, insecure) = (false, false)
        for server in config.virtualServers.indices {
            for real in config.virtualServers[server].realServers.indices {
                config.virtualServers[server].realServers[real].checkers.removeAll { checker in
                    guard case .miscCheck(let misc) = checker.kind, let command = misc.path else { return false }
                    switch verdict(command, part: .checkers) {
                    case .runs: return false
                    case .inhibited: lines.append((.checkers, "Disabling misc script \(command.command) due to insecure"))
                    case .notFound: lines.append((.checkers, "Disabling misc script \(command.command) since not found/accessible"))
                    case .notExecutable: break
                    }
                    return true
                }
                let realServer = config.virtualServers[server].realServers[real]
                config.virtualServers[server].realServers[real].notifyUp = keep(realServer.notifyUp, kind: "notify", part: .checkers)
                config.virtualServers[server].realServers[real].notifyDown = keep(realServer.notifyDown, kind: "notify", part: .checkers)
            }
            let virtual = config.virtualServers[server]
            config.virtualServers[server].quorumUp = keep(virtual.quorumUp, kind: "notify", part: .checkers)
            config.virtualServers[server].quorumDown = keep(virtual.quorumDown, kind: "notify", part: .checkers)
        }
        // The global FIFO's script runs once, in the VRRP part when there is one (as keepalived).
        for kind in vrrpRuns ? [NotifyFifoKind.lvs] : [.global, .lvs] {
            let kept = keep(config.globalDefs.process.fifo(kind).script, kind: kind.keyword, part: .checkers)
            config.globalDefs.process.notifyFifos[kind]?.script = kept
        }
        violation("check scripts", part: .checkers)
    }

    private enum Verdict { case runs, inhibited, notFound, notExecutable }

    private mutating func keep(_ command: ScriptCommand?, kind: String, part: Part) -> ScriptCommand? {
        guard let command else { return nil }
        return verdict(command, part: part, kind: kind) == .runs ? command : nil
    }

    private mutating func verdict(_ command: ScriptCommand, part: Part, kind: String = "") -> Verdict {
        let program = ScriptArguments.split(command.command).first ?? command.command
        let credentials: ScriptCredentials
        if let user = command.user {
            do {
                credentials = try UserDatabase.credentials(user: user, group: command.group)
            } catch {
                lines.append((part, "\(error)"))
                lines.append((part, "Invalid user/group for \(kind) script \(program) - ignoring"))
                return .notFound
            }
        } else if let defaultCredentials = defaultUser() {
            credentials = defaultCredentials
        } else {
            lines.append((part, "Failed to set default user for \(kind) script \(program) - ignoring"))
            return .notFound
        }
        let result = ScriptCheck.check(program: program, as: credentials, securityEnabled: security)
        lines += result.messages.map { (part, $0) }
        if !result.notFound { found = true }
        if result.insecure { insecure = true }
        if result.notFound { return .notFound }
        if result.inhibited { return .inhibited }
        return result.executable ? .runs : .notExecutable
    }

    /// keepalived's reminder that scripts run without script security.
    private mutating func violation(_ what: String, part: Part) {
        guard !security && found else { return }
        lines.append((part, "SECURITY VIOLATION - \(what) are being executed but script_security not enabled.\(insecure ? " There are insecure scripts." : "")"))
    }
}
