extension KeepalivedConfiguration {
    static let keywords = KeywordTable<KeepalivedConfiguration>("the top level", [
        "global_defs": .block { config, statement, context in
            guard context.noArguments(statement) else { return }
            config.globalDefs.location = config.globalDefs.location ?? statement.location
            context.parseBlock(opener: statement, into: &config.globalDefs, table: GlobalDefinitions.keywords)
        },
        "vrrp_script": .block { config, statement, context in
            guard let name = context.blockName(statement) else { return }
            var script = VRRPScript(name: name, location: statement.location)
            context.parseBlock(opener: statement, into: &script, table: VRRPScript.keywords)
            config.vrrpScripts.append(script)
        },
        "vrrp_sync_group": .block { config, statement, context in
            guard let name = context.blockName(statement) else { return }
            var group = VRRPSyncGroup(name: name, location: statement.location)
            context.parseBlock(opener: statement, into: &group, table: VRRPSyncGroup.keywords)
            config.syncGroups.append(group)
        },
        "vrrp_instance": .block { config, statement, context in
            guard let name = context.blockName(statement) else { return }
            var instance = VRRPInstance(name: name, location: statement.location)
            context.parseBlock(opener: statement, into: &instance, table: VRRPInstance.keywords)
            config.vrrpInstances.append(instance)
        },
        "virtual_server_group": .block { config, statement, context in
            guard let name = context.blockName(statement) else { return }
            var group = VirtualServerGroup(name: name, location: statement.location)
            context.parseList(opener: statement) { entry, context in context.addGroupEntry(entry, to: &group) }
            config.virtualServerGroups.append(group)
        },
        "virtual_server": .block { config, statement, context in
            guard let key = context.virtualServerKey(statement) else {
                context.skipBlock()
                return
            }
            var server = VirtualServer(key: key, location: statement.location)
            context.parseBlock(opener: statement, into: &server, table: VirtualServer.keywords)
            server.realServers.trimCapacity()
            config.virtualServers.append(server)
        },
        "SSL": .block { config, statement, context in
            guard context.noArguments(statement) else { return }
            var ssl = config.ssl ?? SSLSettings(location: statement.location)
            context.parseBlock(opener: statement, into: &ssl, table: SSLSettings.keywords)
            config.ssl = ssl
        },
    ])
}

extension SSLSettings {
    static let keywords = KeywordTable<SSLSettings>("SSL", [
        "password": .values(1, 1) { ssl, statement, _ in ssl.password = statement.arguments[0] },
        "ca": .values(1, 1) { ssl, statement, _ in ssl.ca = statement.arguments[0] },
        "certificate": .values(1, 1) { ssl, statement, _ in ssl.certificate = statement.arguments[0] },
        "key": .values(1, 1) { ssl, statement, _ in ssl.key = statement.arguments[0] },
    ])
}

extension ParseContext {
    /// The single name after a named block's keyword (`vrrp_instance VI_1 {`); on a problem the
    /// block is skipped.
    mutating func blockName(_ statement: Statement) -> String? {
        guard statement.arguments.count == 1 else {
            error(statement.location, statement.arguments.isEmpty
                ? "'\(statement.keyword)' needs a name"
                : "'\(statement.keyword)' takes one name, but \(statement.arguments.count) words were given")
            skipBlock()
            return nil
        }
        return statement.arguments[0]
    }

    mutating func noArguments(_ statement: Statement) -> Bool {
        guard statement.arguments.isEmpty else {
            error(statement.location, "'\(statement.keyword)' takes no value before its '{'")
            skipBlock()
            return false
        }
        return true
    }
}

extension Array {
    /// Gives back the spare capacity that growth by doubling left: with tens of thousands of real
    /// servers that slack is several megabytes.
    mutating func trimCapacity() {
        guard capacity > count else { return }
        var exact: [Element] = []
        exact.reserveCapacity(count)
        exact.append(contentsOf: self)
        self = exact
    }
}
