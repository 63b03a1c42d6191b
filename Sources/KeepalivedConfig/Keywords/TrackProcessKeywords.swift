extension TrackProcess {
    static let keywords = KeywordTable<TrackProcess>("vrrp_track_process", [
        "process": .values(1, nil) { tracked, statement, _ in
            tracked.process = statement.arguments[0]
            tracked.parameters = Array(statement.arguments.dropFirst())
        },
        "param_match": .values(1, 1) { tracked, statement, context in
            tracked.paramMatch = context.word(statement, as: ParamMatch.self) ?? tracked.paramMatch
        },
        "full_command": .flag { $0.fullCommand = true },
        "weight": .values(1, 2) { tracked, statement, context in
            guard let weight = context.integer(statement, in: -254...254, what: "vrrp_track_process weight") else { return }
            tracked.weight = weight
            guard statement.arguments.count == 2 else { return }
            guard statement.arguments[1] == "reverse" else {
                return context.error(statement.location, "weight takes 'reverse' after the number, not '\(statement.arguments[1])'")
            }
            tracked.weightReverse = true
        },
        "quorum": .values(1, 1) { tracked, statement, context in tracked.quorum = context.integer(statement, in: 1...65535) ?? tracked.quorum },
        "quorum_max": .values(1, 1) { tracked, statement, context in
            tracked.quorumMax = context.integer(statement, in: 0...65535) ?? tracked.quorumMax
        },
        "delay": .values(1, 1) { tracked, statement, context in
            guard let seconds = context.seconds(statement, in: 0.000001...3600) else { return }
            tracked.forkDelay = seconds
            tracked.terminateDelay = seconds
        },
        "fork_delay": .values(1, 1) { tracked, statement, context in
            tracked.forkDelay = context.seconds(statement, in: 0.000001...3600) ?? tracked.forkDelay
        },
        "terminate_delay": .values(1, 1) { tracked, statement, context in
            tracked.terminateDelay = context.seconds(statement, in: 0.000001...3600) ?? tracked.terminateDelay
        },
    ])
}
