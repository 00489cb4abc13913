import TensorCore

/// A tensor the importer knows before run time: a constant, or a shape computation over the
/// model's static sizes in which the entries that depend on the batch size are unknown (nil).
/// Values are held as `Double` (exact for every integer a shape holds, |v| < 2^53); integer
/// tensors (int*, uint*, bool) truncate like ONNX's integer kernels.
struct KnownTensor: Equatable {
    /// Whether the elements are integers (ONNX int*, uint* or bool).
    var isInteger: Bool
    /// Dimensions, row-major.
    var shape: [Int]
    /// Elements in row-major order; nil where the value depends on the batch size.
    var values: [Double?]

    /// Largest tensor folding may build (elements): a folded value becomes an initializer.
    static let maxElements = 1 << 24

    /// True when no entry depends on the batch size.
    var isFullyKnown: Bool { !values.contains(nil) }

    /// A tensor of `shape` holding `values` (counts checked by the caller).
    init(isInteger: Bool, shape: [Int], values: [Double?]) {
        self.isInteger = isInteger
        self.shape = shape
        self.values = values
    }

    /// The value of an ONNX constant.
    init(_ constant: ONNXConstant) {
        isInteger = constant.integers != nil
        shape = constant.shape
        values = constant.integers.map { $0.map { Double($0) } } ?? constant.tensor.storage.map { Double($0) }
    }

    /// A 1-D integer vector.
    init(integers: [Int?]) {
        self.init(isInteger: true, shape: [integers.count], values: integers.map { $0.map(Double.init) })
    }

    /// The ONNX constant equal to this tensor (all entries known).
    func constant() throws -> ONNXConstant {
        let known = values.map { $0 ?? 0 }
        let tensor = try Tensor(shape: shape, storage: known.map { Float($0) })
        return ONNXConstant(tensor: tensor, integers: isInteger ? known.map(Self.int64) : nil)
    }

    /// The entries as integers (nil where unknown), saturating at the Int range.
    var integers: [Int?] { values.map { $0.map { Int(Self.int64($0)) } } }

    /// `v` rounded toward zero and saturated to Int64 (NaN → 0), as ONNX casts and sentinels need.
    static func int64(_ v: Double) -> Int64 {
        if v.isNaN { return 0 }
        if v >= 9.223_372_036_854_775e18 { return .max }
        if v <= -9.223_372_036_854_775e18 { return .min }
        return Int64(v.rounded(.towardZero))
    }
}
