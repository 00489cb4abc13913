/// Table lookup: `[ids N×…, table V×D] → N×…×D`, row `ids[i]` of the table for each id (Keras
/// `Embedding`, ONNX `Gather` on axis 0 of a constant). Ids arrive as float32 holding whole
/// numbers; one that is not a whole number in `0..<V` is an error naming the value.
public struct Embedding: OpDefinition {
    /// The lookup.
    public init() {}

    public var name: String { "Embedding" }
    public var signature: OpSignature { OpSignature([.data, .weight]) }
    public var trainableInputs: [Int] { [1] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule { .refuses("an embedding's ids index its table rows") }
    /// Stays float (weight-only quantization of tables is separate work).
    public var quantizationRole: QuantizationRole { .float }
    public var halfPrecision: HalfPrecisionRule { .float16(indexInputs: [0]) }
    public var blockQuantizedWeight: BlockQuantizedWeight? { BlockQuantizedWeight(input: 1, axis: 1) }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let ids = try check.input(inputs, 0), table = try check.input(inputs, 1)
        guard table.count == 2, table[0] >= 1, table[1] >= 1, !ids.isEmpty else { throw check.fail("expects ids and a V×D table, got \(ids) and \(table)") }
        return [ids + [table[1]]]
    }

    /// Not counted (moves data).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}

extension Embedding {
    /// An id that is not a whole number in `0..<vocabulary` (the executor names the node).
    public struct IdOutOfRange: Error {
        /// The id as given, its flat position in the ids tensor, and the table's row count.
        public let id: Float, position: Int, vocabulary: Int

        /// The failure for `id` at `position` in a table of `vocabulary` rows.
        public init(id: Float, position: Int, vocabulary: Int) {
            self.id = id
            self.position = position
            self.vocabulary = vocabulary
        }
    }
}
