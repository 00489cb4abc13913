/// Bilinear resize of the two spatial axes of an N×C×H×W tensor to N×C×OH×OW (ONNX `Resize`,
/// mode `linear`; Keras `UpSampling2D(interpolation='bilinear')`, `torch.nn.functional.interpolate`).
/// Source coordinates are clamped to the image, as onnxruntime and TensorFlow do.
public struct ResizeBilinear: OpDefinition {
    /// How an output coordinate maps to a source coordinate (ONNX `coordinate_transformation_mode`).
    public enum Coordinates: String, Hashable, Sendable, CaseIterable {
        /// `(x + 0.5) / scale − 0.5` (TensorFlow 2, `align_corners=False`).
        case halfPixel = "half_pixel"
        /// As `halfPixel`, but 0 when the output length is 1.
        case pytorchHalfPixel = "pytorch_half_pixel"
        /// `x · (in − 1) / (out − 1)` (`align_corners=True`).
        case alignCorners = "align_corners"
        /// `x / scale`.
        case asymmetric
    }

    /// The output height and width.
    public var size: Size2D
    /// The coordinate rule.
    public var coordinates: Coordinates
    /// The height and width scales the coordinate rule divides by, when a file gives them
    /// (ONNX `scales`, where ⌊H · scale⌋ = OH need not mean scale = OH / H); nil: OH / H and OW / W.
    public var scales: [Float]?

    /// A resize to `size` under `coordinates`, with the file's `scales` if it gives them.
    public init(size: Size2D, coordinates: Coordinates, scales: [Float]? = nil) {
        self.size = size
        self.coordinates = coordinates
        self.scales = scales
    }

    public var name: String { "Resize(linear)" }
    public var signature: OpSignature { .unary }
    public var trainableInputs: [Int] { [] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule {
        .passThrough(blocked: .axes([2, 3]), perChannel: [], reason: "interpolates along them")
    }
    /// Interpolates between quantized values in float, requantized to its own range.
    public var quantizationRole: QuantizationRole { .requantized }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let x = try check.input(inputs, 0)
        guard x.count == 4, x[2] >= 1, x[3] >= 1, size.height >= 1, size.width >= 1, size.height <= 1 << 20, size.width <= 1 << 20,
            scales.map({ $0.count == 2 && $0.allSatisfy { $0.isFinite && $0 > 0 } }) ?? true
        else {
            throw check.fail("resizes \(x) to \(size); needs an N×C×H×W input and a positive size")
        }
        return [[x[0], x[1], size.height, size.width]]
    }

    /// Four multiply-adds per output element.
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 4 * (Checked.product(outputs.first?.dropFirst() ?? []) ?? 0) }

    /// For each output position along spatial axis `axis` (0 height, 1 width) of length `input`
    /// resized to `output`: the two source indices and the weight of the second,
    /// `out[o] = (1 − t)·x[lo] + t·x[hi]`.
    public func taps(axis: Int, input: Int, output: Int) -> [(lo: Int, hi: Int, t: Float)] {
        let scale = scales.map { Double($0[axis]) } ?? Double(output) / Double(input)
        return (0..<output).map { o in
            var x: Double
            switch coordinates {
            case .halfPixel: x = (Double(o) + 0.5) / scale - 0.5
            case .pytorchHalfPixel: x = output > 1 ? (Double(o) + 0.5) / scale - 0.5 : 0
            case .alignCorners: x = output > 1 ? Double(o) * Double(input - 1) / Double(output - 1) : 0
            case .asymmetric: x = Double(o) / scale
            }
            x = min(max(x, 0), Double(input - 1))
            let lo = Int(x.rounded(.down))
            return (lo, min(lo + 1, input - 1), Float(x - Double(lo)))
        }
    }
}
