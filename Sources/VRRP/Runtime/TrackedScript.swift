import Dispatch
import KeepalivedConfig
import Logging
import DaemonCore

/// A `vrrp_script` being tracked: run every `interval`, judged OK after `rise` successes in a
/// row and failed after `fall` failures in a row.
final class TrackedScript: @unchecked Sendable {
    let config: VRRPScript
    private(set) var isOK: Bool
    /// A run has started and not ended yet.
    private(set) var isRunning = false
    private var successesInARow = 0
    private var failuresInARow = 0
    private var lastStatus: Int32?
    private var timer: LoopTimer?
    private var stopped = false
    private let loop: EventLoop
    private let runner: ScriptRunner
    private let logger: Logger
    var onChange: () -> Void = {}

    init(config: VRRPScript, loop: EventLoop, runner: ScriptRunner, logger: Logger) {
        self.config = config
        self.loop = loop
        self.runner = runner
        self.logger = logger
        isOK = !config.initFail
    }

    private var interval: Double { config.interval ?? VRRPScript.defaultInterval }

    func start() {
        runOnce()
    }

    func stop() {
        stopped = true
        timer?.cancel()
    }

    private func runOnce() {
        guard !stopped, let command = config.script else { return }
        let started = loop.now()
        isRunning = true
        runner.run(command, timeout: config.timeout ?? interval) { [weak self] status in
            guard let self else { return }
            isRunning = false
            guard !stopped else { return }
            self.record(status)
            self.timer = self.loop.timer(at: started.adding(seconds: self.interval)) { [weak self] in self?.runOnce() }
        }
    }

    private func record(_ status: Int32) {
        if status != lastStatus {
            logger.info("Script `\(config.name)` now returning \(status)")
            lastStatus = status
        }
        if status == 0 {
            successesInARow += 1
            failuresInARow = 0
            if !isOK && successesInARow >= (config.rise ?? VRRPScript.defaultRise) {
                isOK = true
                logger.info("VRRP_Script(\(config.name)) succeeded")
                onChange()
            }
        } else {
            failuresInARow += 1
            successesInARow = 0
            if isOK && failuresInARow >= (config.fall ?? VRRPScript.defaultFall) {
                isOK = false
                logger.info("VRRP_Script(\(config.name)) failed (exited with status \(status))")
                onChange()
            }
        }
    }
}
