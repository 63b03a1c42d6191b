import DaemonCore
import KeepalivedConfig

/// FILE_CHECK: no check runs; the tracked file's number says at once whether the real server is
/// up and how far its weight moves (keepalived's track_file rules, `TrackedFileEffect`).
extension Checker {
    /// The file's number is `value` (at start-up, and each time the file changes).
    func follow(_ file: FileCheck, track: TrackFile?, value: Int64, realWeight: Int) {
        let weight = file.weight ?? track?.weight ?? TrackFile.defaultWeight
        let reverse = file.weight != nil ? file.reverse : (track?.weightReverse ?? false)
        // IPVS_WEIGHT_FAULT: an offset this low takes any weight to nothing.
        let effect = TrackedFileEffect.of(value: value, weight: weight, reverse: reverse, faultAt: -65536)
        if case .offset(let offset) = effect {
            let moved = min(max(realWeight + offset, 0), 65535)
            if dynamicWeight != moved && (dynamicWeight != nil || offset != 0) {
                dynamicWeight = moved
                onWeight(moved)
            }
        }
        if let transition = state.set(up: effect != .fault) {
            log(transition)
            onTransition(transition == .wentUp)
        }
    }
}
