/// Parsers for the one-entry-per-line lists of a VRRP instance. Each returns nil after reporting
/// an error, so a bad line is left out and the rest of the list still parses.
extension ParseContext {
    /// Options of `ip address add` that keepalived accepts and we do not act on yet.
    private static let unsupportedAddressOptions: [String: Bool] = [
        "home": false, "-nodad": false, "mngtmpaddr": false, "noprefixroute": false, "autojoin": false,
        "use_vmac": false, "preferred_lft": true, "track_group": true,
    ]

    /// `ADDRESS[/PREFIX] [brd A] [dev IF] [scope S] [label L] [peer A] [no_track] …`
    mutating func virtualIPAddress(_ entry: Statement) -> VirtualIPAddress? {
        guard let (address, length) = prefixedAddress(entry.keyword, entry) else { return nil }
        var vip = VirtualIPAddress(address: address, prefixLength: length, location: entry.location)
        var words = entry.arguments[...]
        while let option = words.popFirst() {
            if option == "no_track" {
                vip.noTrack = true
                continue
            }
            if let takesValue = Self.unsupportedAddressOptions[option] {
                if takesValue { _ = words.popFirst() }
                warning(entry.location, "address option '\(option)' is not supported yet; ignored")
                continue
            }
            guard ["brd", "dev", "scope", "label", "peer"].contains(option) else {
                error(entry.location, "unknown option '\(option)' for virtual address \(entry.keyword); expected brd, dev, scope, label, peer or no_track")
                return nil
            }
            guard let value = words.popFirst() else {
                error(entry.location, "'\(option)' needs a value in virtual address \(entry.keyword)")
                return nil
            }
            switch option {
            case "brd":
                guard let broadcast = IPAddress(value), broadcast.family == .inet, address.family == .inet else {
                    error(entry.location, "brd '\(value)' must be an IPv4 address, for an IPv4 virtual address")
                    return nil
                }
                vip.broadcast = broadcast
            case "dev": vip.device = value
            case "scope":
                guard let scope = addressScope(value, entry) else { return nil }
                vip.scope = scope
            case "label": vip.label = value
            default:
                guard let peer = IPAddress(value), peer.family == address.family else {
                    error(entry.location, "peer '\(value)' must be an address of the same family as \(entry.keyword)")
                    return nil
                }
                vip.peer = peer
            }
        }
        return vip
    }

    mutating func addressScope(_ text: String, _ entry: Statement) -> AddressScope? {
        guard let scope = AddressScope(rawValue: text) else {
            error(entry.location, "unknown scope '\(text)'; expected one of: \(AddressScope.allCases.map(\.rawValue).joined(separator: " "))")
            return nil
        }
        return scope
    }

    /// `ADDRESS [min_ttl N] [max_ttl N]`.
    mutating func unicastPeer(_ entry: Statement) -> UnicastPeer? {
        guard let address = IPAddress(entry.keyword) else {
            error(entry.location, "'\(entry.keyword)' is not a valid IPv4 or IPv6 address (unicast_peer)")
            return nil
        }
        var peer = UnicastPeer(address: address, location: entry.location)
        var words = entry.arguments[...]
        while let option = words.popFirst() {
            guard option == "min_ttl" || option == "max_ttl", let value = words.popFirst().flatMap({ Int($0) }),
                  (0...255).contains(value) else {
                error(entry.location, "unicast_peer \(entry.keyword): expected 'min_ttl N' or 'max_ttl N' with N in 0-255")
                return nil
            }
            if option == "min_ttl" { peer.minTTL = value } else { peer.maxTTL = value }
        }
        return peer
    }

    /// `NAME [weight N [reverse|noreverse]]` in track_script / track_interface.
    mutating func trackedItem(_ entry: Statement, weights: ClosedRange<Int>) -> TrackedItem? {
        var item = TrackedItem(name: entry.keyword, location: entry.location)
        var words = entry.arguments[...]
        while let option = words.popFirst() {
            switch option {
            case "weight":
                guard let value = words.popFirst() else {
                    error(entry.location, "weight needs a number for \(entry.keyword)")
                    return nil
                }
                guard let weight = Int(value), weights.contains(weight) else {
                    error(entry.location, "weight '\(value)' for \(entry.keyword) must be a whole number in \(weights.lowerBound)-\(weights.upperBound)")
                    return nil
                }
                item.weight = weight
            case "reverse": item.reverse = true
            case "noreverse", "no_reverse": item.reverse = false
            default:
                error(entry.location, "unexpected '\(option)' after \(entry.keyword); expected 'weight N [reverse]'")
                return nil
            }
        }
        return item
    }
}
