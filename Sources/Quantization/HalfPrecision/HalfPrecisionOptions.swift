import TensorCore

/// What `--precision fp16` writes: which values are float16 and where the file's Casts go.
public struct HalfPrecisionOptions: Sendable, Equatable {
    /// The two float16 forms.
    public enum Form: String, Sendable, CaseIterable {
        /// Weights and computation in float16 (`--precision fp16`).
        case compute = "fp16"
        /// Weights stored in float16 and cast to float32 once; computation in float32, for
        /// runtimes without float16 kernels (`--precision fp16-weights`).
        case weightsOnly = "fp16-weights"
    }

    /// The form written.
    public var form = Form.compute
    /// Keep graph inputs and outputs float32 (a Cast after each input, before each output),
    /// like onnxconverter-common's `keep_io_types`; false declares them float16.
    public var keepIOTypes = true
    /// Layers (or IR nodes) kept float32.
    public var exclude: Set<String> = []
    /// The only nodes that may compute in float16 (nil: every node); a mixed precision plan's
    /// float16 part.
    public var allowedNodes: Set<String>?
    /// The opset written: ops whose float16 form needs a newer one stay float32.
    public var opset = 13
    /// A value stays float32 when calibration saw it above `HalfPrecision.largestFinite /
    /// headroom` (float16 runtimes may round or accumulate beyond what the data showed).
    public var headroom: Float = 4

    /// The defaults: float16 computation, float32 inputs and outputs, opset 13, headroom 4.
    public init() {}

    /// The largest magnitude a float16 value may have reached on the calibration data.
    public var activationLimit: Float { HalfPrecision.largestFinite / headroom }
}
