extension KeepalivedConfiguration {
    static let keywords = KeywordTable<KeepalivedConfiguration>("the top level", rootKeywords, [
        "global_defs": .block { config, statement, context in
            guard context.noArguments(statement) else { return }
            config.globalDefs.location = config.globalDefs.location ?? statement.location
            context.parseBlock(opener: statement, into: &config.globalDefs, table: GlobalDefinitions.keywords)
        },
        "vrrp_script": namedBlock(\.vrrpScripts, VRRPScript.init, VRRPScript.keywords),
        "track_file": namedBlock(\.trackFiles, TrackFile.init, TrackFile.keywords),
        "vrrp_track_process": namedBlock(\.trackProcesses, TrackProcess.init, TrackProcess.keywords),
        "vrrp_track_file": namedBlock(\.trackFiles, TrackFile.init, TrackFile.keywords,
                                      deprecation: "\"vrrp_track_file\" is deprecated, please use \"track_file\""),
        "vrrp_sync_group": namedBlock(\.syncGroups, VRRPSyncGroup.init, VRRPSyncGroup.keywords),
        "vrrp_instance": namedBlock(\.vrrpInstances, VRRPInstance.init, VRRPInstance.keywords),
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
        "static_ipaddress": .block { config, statement, context in
            guard context.noArguments(statement) else { return }
            context.parseList(opener: statement) { entry, context in
                if let address = context.virtualIPAddress(entry) { config.staticAddresses.append(address) }
            }
        },
        "static_routes": .block { config, statement, context in
            guard context.noArguments(statement) else { return }
            context.parseList(opener: statement) { entry, context in
                if let route = context.virtualRoute(entry) { config.staticRoutes.append(route) }
            }
        },
        "static_rules": .block { config, statement, context in
            guard context.noArguments(statement) else { return }
            context.parseList(opener: statement) { entry, context in
                if let rule = context.routingRule(entry) { config.staticRules.append(rule) }
            }
        },
        "SSL": .block { config, statement, context in
            guard context.noArguments(statement) else { return }
            var ssl = config.ssl ?? SSLSettings(location: statement.location)
            context.parseBlock(opener: statement, into: &ssl, table: SSLSettings.keywords)
            config.ssl = ssl
        },
    ], unimplementedKeywords)
}

extension KeepalivedConfiguration {
    /// keepalived's root keywords, valid outside `global_defs` as inside it.
    private static let rootKeywords: [String: KeywordRule<KeepalivedConfiguration>] = Dictionary(uniqueKeysWithValues:
        GlobalDefinitions.rootKeywords.map { name in
            let rule = GlobalDefinitions.processKeywords[name]!
            return (name, KeywordRule<KeepalivedConfiguration>(shape: rule.shape, once: rule.once) { config, statement, context in
                rule.apply(&config.globalDefs, statement, &context)
            })
        })

    /// `KEYWORD NAME { … }`: a block made from its name and location, read with `table`, and
    /// appended to the list at `path`.
    private static func namedBlock<Block>(_ path: WritableKeyPath<KeepalivedConfiguration, [Block]> & Sendable,
                                          _ make: @escaping @Sendable (String, SourceLocation) -> Block,
                                          _ table: KeywordTable<Block>, deprecation: String? = nil) -> KeywordRule<KeepalivedConfiguration> {
        .block { config, statement, context in
            if let deprecation { context.warning(statement.location, deprecation) }
            guard let name = context.blockName(statement) else { return }
            var block = make(name, statement.location)
            context.parseBlock(opener: statement, into: &block, table: table)
            config[keyPath: path].append(block)
        }
    }
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
