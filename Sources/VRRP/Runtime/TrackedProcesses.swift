#if canImport(Glibc)
import Glibc
#endif
import DaemonCore
import Dispatch
import KeepalivedConfig
import Logging

/// The `vrrp_track_process`es of the config: which running processes match each, kept up to date
/// from the kernel's process connector (fork, exec, rename, exit; /proc is read once at start and
/// again only if events were lost), and whether each has its quorum. A gain waits `fork_delay`,
/// a loss `terminate_delay`, before it counts. Confined to the event loop.
final class TrackedProcesses: @unchecked Sendable {
    let trackers: [TrackProcess]
    private let loop: EventLoop
    private let logger: Logger
    private var connector: ProcessConnector?
    private var source: LoopReadSource?
    private var running: [String: Set<Int32>] = [:]
    /// The quorum as it counts (after the delays).
    private var hasQuorum: [String: Bool] = [:]
    private var pending: [String: LoopTimer] = [:]
    private let readsCommandLines: Bool
    private let readsNames: Bool
    var onChange: () -> Void = {}

    init(_ trackers: [TrackProcess], loop: EventLoop, logger: Logger) {
        self.trackers = trackers
        self.loop = loop
        self.logger = logger
        readsCommandLines = trackers.contains(where: \.usesCommandLine)
        readsNames = trackers.contains { !$0.usesCommandLine }
        do {
            let connector = try ProcessConnector()
            self.connector = connector
            source = loop.readSource(connector.descriptor) { [weak self] in self?.eventsArrived() }
        } catch {
            logger.error("track_process not available: the kernel's process connector cannot be opened (\(error)); tracked processes are counted once, at start")
        }
        rescan()
        for tracker in trackers {
            hasQuorum[tracker.name] = tracker.isUp(count: running[tracker.name]?.count ?? 0)
            logger.info("track_process \(tracker.name): \(running[tracker.name]?.count ?? 0) running, quorum \(hasQuorum[tracker.name]! ? "met" : "not met")")
        }
    }

    deinit {
        source?.cancel()
        pending.values.forEach { $0.cancel() }
    }

    func isUp(_ name: String) -> Bool { hasQuorum[name] ?? false }

    private func eventsArrived() {
        guard let connector else { return }
        var touched = Set<String>()
        for event in connector.drain() {
            switch event {
            case .fork(let parent, let child):
                // A child runs what its parent runs until it execs.
                for (name, pids) in running where pids.contains(parent) {
                    running[name]!.insert(child)
                    touched.insert(name)
                }
            case .exec(let pid), .comm(let pid):
                let process = ProcessInfoReader(pid: pid, names: readsNames, commandLines: readsCommandLines)
                for tracker in trackers {
                    let matches = process.map { tracker.matches(comm: $0.comm, arguments: $0.arguments) } ?? false
                    let had = running[tracker.name, default: []].contains(pid)
                    if matches != had {
                        if matches { running[tracker.name, default: []].insert(pid) } else { running[tracker.name]?.remove(pid) }
                        touched.insert(tracker.name)
                    }
                }
            case .exit(let pid):
                for (name, pids) in running where pids.contains(pid) {
                    running[name]!.remove(pid)
                    touched.insert(name)
                }
            case .overrun:
                logger.info("track_process: process events were lost; reading /proc again")
                rescan()
                touched.formUnion(trackers.map(\.name))
            }
        }
        touched.forEach(evaluate)
    }

    /// Counts from /proc: at start, and after lost events.
    private func rescan() {
        var found: [String: Set<Int32>] = Dictionary(uniqueKeysWithValues: trackers.map { ($0.name, []) })
        guard let folder = opendir("/proc") else { return }
        defer { closedir(folder) }
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = Int32(name), let process = ProcessInfoReader(pid: pid, names: readsNames, commandLines: readsCommandLines) else { continue }
            for tracker in trackers where tracker.matches(comm: process.comm, arguments: process.arguments) {
                found[tracker.name]!.insert(pid)
            }
        }
        running = found
    }

    private func evaluate(_ name: String) {
        guard let tracker = trackers.first(where: { $0.name == name }) else { return }
        let count = running[name]?.count ?? 0
        let wanted = tracker.isUp(count: count)
        guard wanted != hasQuorum[name] else {
            pending.removeValue(forKey: name)?.cancel()
            return
        }
        let delay = (wanted ? tracker.forkDelay : tracker.terminateDelay) ?? 0
        guard delay > 0 else { return apply(name, wanted, count: count) }
        guard pending[name] == nil else { return }
        pending[name] = loop.timer(at: loop.now().adding(seconds: delay)) { [weak self] in
            guard let self else { return }
            pending.removeValue(forKey: name)?.cancel()
            let now = running[name]?.count ?? 0
            if tracker.isUp(count: now) == wanted { apply(name, wanted, count: now) }
        }
    }

    private func apply(_ name: String, _ up: Bool, count: Int) {
        hasQuorum[name] = up
        logger.info("track_process \(name): \(count) running, quorum \(up ? "gained" : "lost")")
        onChange()
    }
}

/// A process's name and command line as /proc shows them; nil once it has gone.
private struct ProcessInfoReader {
    let comm: String
    let arguments: [String]

    init?(pid: Int32, names: Bool, commandLines: Bool) {
        var comm = ""
        var arguments: [String] = []
        if names {
            guard let bytes = Self.read("/proc/\(pid)/comm") else { return nil }
            comm = String(decoding: bytes.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        }
        if commandLines {
            guard let bytes = Self.read("/proc/\(pid)/cmdline") else { return nil }
            arguments = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            if arguments.last == "" { arguments.removeLast() }
        }
        self.comm = comm
        self.arguments = arguments
    }

    private static func read(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 64 * 1024 {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            bytes += chunk[..<count]
        }
        return bytes
    }
}
