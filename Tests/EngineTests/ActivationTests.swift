import Engine
import Foundation
import TensorCore
import Testing

/// `applyActivation` against the formula documented on each `Activation` case, evaluated in
/// Double, and against hand-worked values.
@Suite("applyActivation matches each activation's formula")
struct ActivationTests {
    static let cases: [Activation] = [
        .relu, .sigmoid, .tanh, .softplus, .softsign, .selu, .swish, .hardSwish, .exponential, .negate,
        .clip(min: 0, max: 6), .clip(min: -1.5, max: 2.25),
        .leakyRelu(alpha: 0.3), .elu(alpha: 1), .elu(alpha: 0.5), .hardSigmoid(alpha: 0.2, beta: 0.5),
        .gelu(approximate: false), .gelu(approximate: true),
        .thresholdedLinear(threshold: 0.5, negativeSlope: 0.1, maxValue: 4),
        .thresholdedLinear(threshold: 0, negativeSlope: 0, maxValue: 6),
        .thresholdedLinear(threshold: 1, negativeSlope: 0.2, maxValue: nil),
    ]

    /// −8…8 in steps of 0.25 (exactly 0, the thresholds, clip bounds, hard-sigmoid and
    /// hard-swish corners), the floats either side of those points, and large magnitudes.
    static let grid: [Float] = {
        var values = Array(stride(from: Float(-8), through: 8, by: 0.25))
        for corner: Float in [0.5, 4, 6, 1, 2.25, -1.5, 2.5, -2.5, 3, -3, 0] {
            values += [corner.nextUp, corner.nextDown]
        }
        values += [1e-7, -1e-7, 0.1, -0.1, 1.0 / 3, -0.0, 20, 20.5, -20, 30, -30, 80, -80]
        return values
    }()

    /// The documented formula of `f` at `x`, in Double.
    static func reference(_ f: Activation, _ x: Double) -> Double {
        switch f {
        case .relu: return max(x, 0)
        case .sigmoid: return 1 / (1 + exp(-x))
        case .tanh: return Foundation.tanh(x)
        case .softplus: return log1p(exp(x))
        case .softsign: return x / (1 + abs(x))
        case .selu: return 1.0507009873554804934193349852946 * (x > 0 ? x : 1.6732632423543772848170429916717 * (exp(x) - 1))
        case .swish: return x / (1 + exp(-x))
        case .hardSwish: return x * min(max(x + 3, 0), 6) / 6
        case .exponential: return exp(x)
        case .negate: return -x
        case .squareRoot: return x.squareRoot()
        case .reciprocal: return 1 / x
        case .clip(let lo, let hi): return min(max(x, Double(lo)), Double(hi))
        case .leakyRelu(let alpha): return x >= 0 ? x : Double(alpha) * x
        case .elu(let alpha): return x > 0 ? x : Double(alpha) * (exp(x) - 1)
        case .hardSigmoid(let alpha, let beta): return max(0, min(1, Double(alpha) * x + Double(beta)))
        case .gelu(let approximate):
            if approximate {
                return 0.5 * x * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
            }
            return 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
        case .thresholdedLinear(let threshold, let slope, let maxValue):
            let t = Double(threshold)
            return x > t ? min(max(x, 0), Double(maxValue ?? .infinity)) : Double(slope) * (x - t)
        }
    }

    @Test("applyActivation ≈ formula in Double on −8…8, corners and large values", arguments: cases)
    func matchesFormula(_ f: Activation) throws {
        let grid = Self.grid
        let x = try Tensor(shape: [1, grid.count], storage: grid)
        let y = applyActivation(f, x)
        #expect(y.shape == x.shape)
        for (i, v) in grid.enumerated() {
            let expected = Self.reference(f, Double(v))
            let error = abs(Double(y.storage[i]) - expected)
            #expect(error <= 1e-6 * max(1, abs(expected)), "\(f.shortName)(\(v)) = \(y.storage[i]), formula \(expected)")
        }
    }

    @Test("square root and reciprocal ≈ formula in Double on their domain (x > 0)", arguments: [Activation.squareRoot, .reciprocal])
    func positiveDomain(_ f: Activation) throws {
        let grid = Self.grid.filter { $0 >= 1e-7 }  // 1 / (0.nextUp) overflows float32
        let y = applyActivation(f, try Tensor(shape: [1, grid.count], storage: grid))
        for (i, v) in grid.enumerated() {
            let expected = Self.reference(f, Double(v))
            #expect(abs(Double(y.storage[i]) - expected) <= 1e-6 * max(1, abs(expected)), "\(f.shortName)(\(v)) = \(y.storage[i]), formula \(expected)")
        }
    }

    /// (activation, input, value worked out by hand or from a published constant).
    static let handWorked: [(Activation, Float, Double)] = [
        (.hardSigmoid(alpha: 0.2, beta: 0.5), 1, 0.7),
        (.hardSigmoid(alpha: 0.2, beta: 0.5), -1, 0.3),
        (.hardSigmoid(alpha: 0.2, beta: 0.5), 3, 1),
        (.hardSigmoid(alpha: 0.2, beta: 0.5), -3, 0),
        (.clip(min: 0, max: 6), 7, 6),
        (.clip(min: 0, max: 6), -1, 0),
        (.clip(min: 0, max: 6), 3.5, 3.5),
        (.selu, 1, 1.0507009873554805),
        (.selu, -1, -1.1113307378125625),  // 1.0507… · 1.6733… · (e⁻¹ − 1)
        (.gelu(approximate: false), 1, 0.8413447460685429),  // Φ(1)
        (.gelu(approximate: true), 1, 0.8411919906082768),
        (.thresholdedLinear(threshold: 0.5, negativeSlope: 0.1, maxValue: 4), 0.5, 0),  // slope · (x − t) = 0
        (.thresholdedLinear(threshold: 0.5, negativeSlope: 0.1, maxValue: 4), 0.6, 0.6),
        (.thresholdedLinear(threshold: 0.5, negativeSlope: 0.1, maxValue: 4), 5, 4),
        (.thresholdedLinear(threshold: 0.5, negativeSlope: 0.1, maxValue: 4), -1, -0.15),
        (.leakyRelu(alpha: 0.3), -2, -0.6),
        (.leakyRelu(alpha: 0.3), 2, 2),
        (.elu(alpha: 1), -1, -0.6321205588285577),  // e⁻¹ − 1
        (.softsign, 3, 0.75),
        (.softsign, -1, -0.5),
        (.hardSwish, 1, 2.0 / 3),
        (.hardSwish, -3, 0),
        (.hardSwish, 3, 3),
        (.sigmoid, 0, 0.5),
        (.softplus, 0, 0.6931471805599453),  // ln 2
        (.swish, 1, 0.7310585786300049),  // 1 / (1 + e⁻¹)
        (.tanh, 0, 0),
        (.exponential, 1, 2.718281828459045),
        (.relu, -2, 0),
        (.relu, 2, 2),
    ]

    @Test("hand-worked values", arguments: handWorked)
    func handWorkedValue(_ f: Activation, _ x: Float, _ expected: Double) throws {
        let y = applyActivation(f, try Tensor(shape: [1, 1], storage: [x])).storage[0]
        #expect(abs(Double(y) - expected) <= 1e-6, "\(f.shortName)(\(x)) = \(y), expected \(expected)")
    }

    @Test("shape is kept and every element is mapped (rank 4)")
    func rank4() throws {
        let values = (0..<24).map { Float($0) - 12 }
        let y = applyActivation(.leakyRelu(alpha: 0.5), try Tensor(shape: [1, 2, 3, 4], storage: values))
        expectValues(y, shape: [1, 2, 3, 4], values.map { $0 < 0 ? $0 / 2 : $0 })
    }
}
