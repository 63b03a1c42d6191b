/// The process-wide keywords of `global_defs`: namespace, umask, start-up and shutdown scripts,
/// notify FIFOs. Where keepalived keeps the first of a repeated setting and ignores the rest, so
/// do we, with its words in the warning.
extension GlobalDefinitions {
    static let processKeywords: [String: KeywordRule<GlobalDefinitions>] = {
        var rules: [String: KeywordRule<GlobalDefinitions>] = [
            "net_namespace": .values(1, 1, once: false) { defs, statement, context in
                guard defs.process.netNamespace == nil else {
                    context.warning(statement.location, "Duplicate net_namespace definition \(statement.arguments[0]) - ignoring")
                    return
                }
                guard ProcessSettings.isNamespaceName(statement.arguments[0]) else {
                    context.error(statement.location, "net_namespace '\(statement.arguments[0])' is not a namespace name (no '/', not '.' or '..')")
                    return
                }
                defs.process.netNamespace = statement.arguments[0]
                defs.process.netNamespaceLocation = statement.location
            },
            "net_namespace_ipvs": .values(0, 1, once: false) { defs, statement, context in
                guard defs.process.netNamespaceIPVS == nil else {
                    context.warning(statement.location, "Duplicate net_namespace_ipvs definition \(statement.arguments.first ?? "") - ignoring")
                    return
                }
                let name = statement.arguments.first ?? ""
                guard name.isEmpty || ProcessSettings.isNamespaceName(name) else {
                    context.error(statement.location, "net_namespace_ipvs '\(name)' is not a namespace name (no '/', not '.' or '..')")
                    return
                }
                defs.process.netNamespaceIPVS = name
            },
            "namespace_with_ipsets": .flag { defs in defs.process.namespaceWithIpsets = true },
            "umask": .values(1, nil) { defs, statement, context in
                switch UmaskValue.parse(Array(statement.arguments)) {
                case .success(let mask): defs.process.umask = mask
                case .failure(let problem): context.error(statement.location, problem.message)
                }
            },
            "startup_script": .values(1, 3, once: false) { defs, statement, context in
                guard defs.process.startupScript == nil else {
                    context.warning(statement.location, "startup script already specified; this one is ignored")
                    return
                }
                defs.process.startupScript = context.script(statement)
            },
            "shutdown_script": .values(1, 3, once: false) { defs, statement, context in
                guard defs.process.shutdownScript == nil else {
                    context.warning(statement.location, "shutdown script already specified; this one is ignored")
                    return
                }
                defs.process.shutdownScript = context.script(statement)
            },
            "startup_script_timeout": .values(1, 1) { defs, statement, context in
                defs.process.startupScriptTimeout = context.integer(statement, in: 1...1000) ?? defs.process.startupScriptTimeout
            },
            "shutdown_script_timeout": .values(1, 1) { defs, statement, context in
                defs.process.shutdownScriptTimeout = context.integer(statement, in: 1...1000) ?? defs.process.shutdownScriptTimeout
            },
            "fifo_write_vrrp_states_on_reload": .flag { defs in defs.process.fifoWriteVRRPStatesOnReload = true },
        ]
        for kind in NotifyFifoKind.allCases {
            rules[kind.keyword] = .values(1, 3, once: false) { defs, statement, context in
                var fifo = defs.process.fifo(kind)
                guard fifo.path == nil else {
                    context.warning(statement.location, "\(kind.keyword) already specified - ignoring \(statement.arguments[0])")
                    return
                }
                fifo.path = statement.arguments[0]
                fifo.location = statement.location
                fifo.user = statement.arguments.count > 1 ? statement.arguments[1] : nil
                fifo.group = statement.arguments.count > 2 ? statement.arguments[2] : nil
                defs.process.notifyFifos[kind] = fifo
            }
            rules[kind.keyword + "_script"] = .values(1, 3, once: false) { defs, statement, context in
                var fifo = defs.process.fifo(kind)
                guard fifo.script == nil else {
                    context.warning(statement.location, "\(kind.keyword)_script already specified - ignoring \(statement.arguments[0])")
                    return
                }
                fifo.script = context.script(statement)
                fifo.scriptLocation = statement.location
                defs.process.notifyFifos[kind] = fifo
            }
        }
        return rules
    }()

    /// keepalived accepts its root keywords (net_namespace, net_namespace_ipvs,
    /// namespace_with_ipsets) outside global_defs too.
    static let rootKeywords = ["net_namespace", "net_namespace_ipvs", "namespace_with_ipsets"]
}

extension ProcessSettings {
    /// A name `ip netns` could have made: one path component.
    static func isNamespaceName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/")
    }
}
