/// A dense float32 tensor: row-major (C order) contiguous storage and its shape.
///
/// Image tensors inside the engine are NCHW; data read from users is NHWC until the graph
/// transposes it. Value semantics (copy on write through `Array`).
public struct Tensor: Equatable, Sendable {
    /// Dimensions, outermost first.
    public private(set) var shape: [Int]
    /// `shape.product` elements in row-major order.
    public var storage: [Float]

    /// A tensor over `storage`; fails when the element count does not match `shape`.
    public init(shape: [Int], storage: [Float]) throws {
        guard let count = Checked.product(shape), count == storage.count else {
            throw ModelPressError.internalError("tensor shape \(shape) does not hold \(storage.count) elements")
        }
        self.shape = shape
        self.storage = storage
    }

    /// A tensor of `shape` filled with `value`; fails on a negative or overflowing shape.
    public init(shape: [Int], repeating value: Float = 0) throws {
        guard let count = Checked.product(shape) else {
            throw ModelPressError.internalError("invalid tensor shape \(shape)")
        }
        self.shape = shape
        self.storage = [Float](repeating: value, count: count)
    }

    /// A tensor of `shape` whose elements are not initialised: only for kernels that write
    /// every element before anything reads one (saves a zero-fill pass over large outputs).
    public init(uninitializedShape shape: [Int]) throws {
        guard let count = Checked.product(shape) else {
            throw ModelPressError.internalError("invalid tensor shape \(shape)")
        }
        self.shape = shape
        self.storage = [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// A rank-0 tensor holding `value`.
    public init(scalar value: Float) {
        self.shape = []
        self.storage = [value]
    }

    /// Number of elements.
    public var count: Int { storage.count }
    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// The same elements under a new shape with equal element count.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        try Tensor(shape: newShape, storage: storage)
    }
}
