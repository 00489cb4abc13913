import Foundation
import TensorCore

/// How the learning rate changes with the optimizer step (0-based).
public enum LearningRateSchedule: Sendable, Equatable, Codable {
    /// The base rate throughout.
    case constant
    /// `base · factor^⌊step / every⌋`.
    case step(every: Int, factor: Float)
    /// Linear warm-up from `base/warmup` to `base` over `warmup` steps, then cosine decay to
    /// `floor·base` at `total` steps (Keras `CosineDecay` with `alpha = floor`).
    case cosine(warmup: Int, total: Int, floor: Float)

    /// The learning rate at optimizer step `step` for base rate `base`.
    public func rate(base: Float, step: Int) -> Float {
        switch self {
        case .constant: return base
        case .step(let every, let factor):
            return base * pow(factor, Float(step / max(1, every)))
        case .cosine(let warmup, let total, let floor):
            if step < warmup { return base * Float(step + 1) / Float(warmup) }
            let span = max(1, total - warmup)
            let progress = min(1, Double(step - warmup) / Double(span))
            let cosine = 0.5 * (1 + cos(Double.pi * progress))
            return base * Float(Double(floor) + (1 - Double(floor)) * cosine)
        }
    }

    /// Parses `constant`, `step:EVERY:FACTOR` or `cosine[:WARMUP[:FLOOR]]` with EVERY and WARMUP
    /// in epochs, converted to steps with `stepsPerEpoch` over `epochs` epochs.
    public static func parse(_ text: String, stepsPerEpoch: Int, epochs: Int) throws -> LearningRateSchedule {
        let parts = text.split(separator: ":").map(String.init)
        func number(_ i: Int, _ fallback: Double) throws -> Double {
            guard i < parts.count else { return fallback }
            guard let v = Double(parts[i]), v.isFinite, v >= 0 else {
                throw invalid(text)
            }
            return v
        }
        switch parts.first ?? "" {
        case "constant" where parts.count == 1: return .constant
        case "step" where parts.count == 3:
            return .step(every: max(1, Int(try number(1, 1) * Double(stepsPerEpoch))), factor: Float(try number(2, 0.5)))
        case "cosine" where parts.count <= 3:
            return .cosine(warmup: Int(try number(1, 0) * Double(stepsPerEpoch)), total: stepsPerEpoch * epochs, floor: Float(try number(2, 0)))
        default: throw invalid(text)
        }
    }
}

/// The exit-2 error for an unreadable `--lr-schedule` value.
private func invalid(_ text: String) -> ModelPressError {
    .invalidArgument("--lr-schedule '\(text)' is not valid.\nHINT: use constant, step:EVERY_EPOCHS:FACTOR (e.g. step:10:0.5) or cosine[:WARMUP_EPOCHS[:FLOOR]] (e.g. cosine:2:0.01).")
}
