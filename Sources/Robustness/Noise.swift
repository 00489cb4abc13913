import Foundation
import Training

/// The generator every robustness draw uses (the training engine's SplitMix64).
typealias TrainingRandomSource = TrainingRandom

/// Random perturbations of one sample's features (`x`, flat, modified in place).
enum Noise {
    /// Applies `perturbation` (not a gradient attack) to `x` with `random`.
    static func apply(
        _ perturbation: Perturbation, to x: UnsafeMutableBufferPointer<Float>, statistics: InputStatistics?, vocabulary: Int,
        random: inout TrainingRandomSource
    ) {
        switch perturbation {
        case .gaussian(let sigma, let absolute):
            for i in x.indices {
                let scale = absolute ? Float(sigma) : Float(sigma) * (statistics?.std[i] ?? 0)
                x[i] += scale * standardNormal(&random)
            }
        case .saltAndPepper(let rate):
            let lo = statistics?.minimum ?? 0, hi = statistics?.maximum ?? 1
            for i in x.indices {
                let u = Double(random.nextUnitFloat())
                if u < rate / 2 { x[i] = lo } else if u < rate { x[i] = hi }
            }
        case .dropout(let rate):
            for i in x.indices where Double(random.nextUnitFloat()) < rate { x[i] = 0 }
        case .tokenSubstitution(let rate):
            guard vocabulary > 2 else { return }
            for i in x.indices {
                let substitute = Double(random.nextUnitFloat()) < rate
                guard x[i] != 0, substitute else { continue }
                // Uniform over the other non-padding ids: draw from vocabulary − 2 and skip the original.
                var id = 1 + random.nextIndex(below: vocabulary - 2)
                if Float(id) >= x[i] { id += 1 }
                x[i] = Float(id)
            }
        case .fgsm, .pgd:
            break
        }
    }

    /// A standard normal draw (Box–Muller on two uniforms, in Double).
    static func standardNormal(_ random: inout TrainingRandomSource) -> Float {
        let u1 = max(Double(random.next() >> 11) * 0x1p-53, 0x1p-60), u2 = Double(random.next() >> 11) * 0x1p-53
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
}
