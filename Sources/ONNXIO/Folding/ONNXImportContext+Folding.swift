import Foundation
import ONNXProto
import TensorCore

/// Constant folding at import: any node whose inputs are all known — constants, or shape
/// computations over the model's static sizes — is evaluated with `FoldingKernels` and its
/// output recorded, instead of becoming an IR node. One mechanism for every exporter's idiom
/// (tf2onnx's `Shape → Gather → Cast → Slice → Concat → Reshape`, PyTorch's `Shape → Gather →
/// Unsqueeze → Concat`, `Constant` nodes, ConstantOfShape / Range / Expand chains). Entries that
/// depend on the batch size stay unknown; a consumer that needs them known fails naming itself.
extension ONNXImportContext {
    /// ONNX operators folding evaluates (default domain, single output).
    static let foldableOps: Set<String> = [
        "Constant", "Identity", "Cast", "CastLike", "Shape", "Size",
        "Neg", "Abs", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Exp", "Log", "Not", "Sign", "Relu",
        "Add", "Sub", "Mul", "Div", "Mod", "Pow", "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor",
        "Sum", "Max", "Min", "Mean", "Where", "Clip",
        "Gather", "GatherElements", "Slice", "Concat", "Unsqueeze", "Squeeze", "Reshape", "Flatten", "Transpose", "Expand", "Tile",
        "ConstantOfShape", "Range", "ReduceProd", "ReduceSum", "ReduceMin", "ReduceMax", "ReduceMean",
    ]

    /// The value of `name` when known at import time.
    func known(_ name: String) -> KnownTensor? {
        partial[name] ?? constants[name].map(KnownTensor.init)
    }

    /// Folds the nodes whose inputs are all constants (before patterns are matched, so that
    /// patterns see `Constant` nodes and folded weights as constants).
    mutating func foldConstantNodes() throws {
        for (i, node) in onnx.node.enumerated() {
            guard node.input.allSatisfy({ $0.isEmpty || constants[$0] != nil }) else { continue }
            if try fold(node) { folded.insert(i) }
        }
    }

    /// Evaluates `node` when it is foldable and its inputs are known (for Shape and Size, when
    /// its input's shape is static); records the output and returns true. False: an ordinary node.
    mutating func fold(_ node: Onnx_NodeProto) throws -> Bool {
        guard node.domain.isEmpty || node.domain == "ai.onnx", node.output.count == 1, let out = node.output.first, !out.isEmpty,
            Self.foldableOps.contains(node.opType)
        else { return false }
        let result: KnownTensor
        do {
            if node.opType == "Constant" {
                try importConstant(node)
                return true
            } else if node.opType == "Shape" || node.opType == "Size" {
                guard let x = node.input.first, let s = graph.shapes[x] ?? known(x)?.shape ?? timeMajorShape(x) else { return false }
                let dims = s.map { $0 == dynamicBatch ? nil : $0 }
                if node.opType == "Size" {
                    let n = dims.contains(nil) ? nil : Checked.product(dims.map { $0! })
                    result = KnownTensor(isInteger: true, shape: [], values: [n.map(Double.init)])
                } else {
                    let start = try FoldingKernels.axis(min(max(node.int("start", default: 0), -dims.count), dims.count), rank: dims.count + 1)
                    let endAttr = node.int("end", default: dims.count)
                    let end = min(max(endAttr < 0 ? endAttr + dims.count : endAttr, 0), dims.count)
                    result = KnownTensor(integers: start < end ? Array(dims[start..<end]) : [])
                }
            } else if let fill = try batchSizedFill(node) {
                filled[out] = fill
                return true
            } else if node.opType == "Expand", node.input.count == 2, constants[node.input[0]] != nil, known(node.input[1])?.isFullyKnown == false {
                return false  // a constant repeated over the batch: `importExpand`
            } else if node.opType == "Gather", let fill = node.input.count == 2 ? filled[node.input[1]] : nil, let rank = fill.rank,
                let table = node.input.first.flatMap(known), table.isFullyKnown, table.shape.count == 2, node.int("axis", default: 0) == 0
            {
                // Rows of a constant table by ids that are all one number (BERT's token types): that row,
                // broadcast over the ids' axes.
                let width = table.shape[1]
                guard let row = Int(exactly: fill.value), row >= 0, row < table.shape[0] else {
                    throw fail(node, "gathers row \(fill.value) of a table of \(table.shape[0])")
                }
                constants[out] = try KnownTensor(
                    isInteger: table.isInteger, shape: [Int](repeating: 1, count: rank) + [width], values: Array(table.values[(row * width)..<((row + 1) * width)])
                ).constant()
                return true
            } else {
                var inputs: [KnownTensor?] = []
                for name in node.input {
                    if name.isEmpty {
                        inputs.append(nil)
                        continue
                    }
                    guard let v = known(name) else { return false }
                    inputs.append(v)
                }
                result = try evaluate(node, inputs)
            }
        } catch let failure as FoldingFailure {
            throw fail(node, failure.message)
        }
        guard constants[out] == nil, partial[out] == nil, graph.shapes[out] == nil else { throw fail(node, "writes '\(out)', which is already defined") }
        if result.isFullyKnown {
            constants[out] = try result.constant()
        } else {
            partial[out] = result
        }
        return true
    }

    /// The fill of `node`'s output when it is a tensor of one number whose shape depends on the
    /// batch size: `ConstantOfShape` of a partly known shape, `Expand` of a uniform constant to
    /// one, or a reshape, slice, transpose, expand or copy of such a tensor (the other inputs
    /// known; the rank is kept where it is known). Nil otherwise.
    private func batchSizedFill(_ node: Onnx_NodeProto) throws -> Fill? {
        if node.opType == "ConstantOfShape", let shape = node.input.first.flatMap(known), !shape.isFullyKnown {
            let value = try node.attribute("value").map { try KnownTensor(constant($0.t, location: "node '\(node.name)' value")) }
            return Fill(value: (value?.values.first ?? 0) ?? 0, rank: shape.values.count)
        }
        if node.opType == "Expand", node.input.count == 2, let value = known(node.input[0]), value.isFullyKnown, let first = value.values.first ?? nil,
            value.values.allSatisfy({ $0 == first }), let shape = known(node.input[1]), !shape.isFullyKnown
        {
            return Fill(value: first, rank: max(value.shape.count, shape.values.count))
        }
        let moves: Set<String> = ["Identity", "Slice", "Reshape", "Unsqueeze", "Squeeze", "Transpose", "Expand", "Tile", "Flatten", "Gather"]
        guard moves.contains(node.opType) || (node.opType == "Cast" && node.input.first.flatMap { filled[$0]?.value } == 0),
            let source = node.input.first, let fill = filled[source], node.input.dropFirst().allSatisfy({ $0.isEmpty || known($0) != nil })
        else { return nil }
        return Fill(value: fill.value, rank: ["Identity", "Cast"].contains(node.opType) ? fill.rank : nil)
    }

    /// The error for a node that reads a value depending on the batch size where ModelPress needs it known.
    func dependsOnBatch(_ node: Onnx_NodeProto, _ name: String) -> ModelPressError {
        fail(node, "reads '\(name)', which depends on the batch size; ModelPress folds shape computations over the static (non-batch) sizes only")
    }

    /// `node` evaluated on known `inputs` (nil: an absent optional input).
    private func evaluate(_ node: Onnx_NodeProto, _ inputs: [KnownTensor?]) throws -> KnownTensor {
        func input(_ k: Int) throws -> KnownTensor {
            guard k < inputs.count, let v = inputs[k] else { throw FoldingFailure("has no input \(k)") }
            return v
        }
        func optional(_ k: Int) -> KnownTensor? { k < inputs.count ? inputs[k] : nil }
        /// Integer entries of input `k`, all known.
        func ints(_ k: Int, _ what: String) throws -> [Int]? {
            guard let t = optional(k) else { return nil }
            let values = t.integers
            guard !values.contains(nil) else { throw FoldingFailure("needs its \(what) known, and it depends on the batch size") }
            return values.map { $0! }
        }
        switch node.opType {
        case "Identity":
            return try input(0)
        case "Cast", "CastLike":
            let target = node.opType == "Cast" ? Int32(clamping: node.int("to", default: 1)) : try input(1).isInteger ? ONNXDataType.int64 : ONNXDataType.float
            return try cast(try input(0), to: target)
        case "Neg", "Abs", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Exp", "Log", "Not", "Sign", "Relu":
            let t = try input(0)
            let f: (Double) -> Double
            switch node.opType {
            case "Neg": f = { -$0 }
            case "Abs": f = { abs($0) }
            case "Sqrt": f = { $0.squareRoot() }
            case "Reciprocal": f = { 1 / $0 }
            case "Floor": f = { $0.rounded(.down) }
            case "Ceil": f = { $0.rounded(.up) }
            case "Round": f = { $0.rounded(.toNearestOrEven) }
            case "Exp": f = { Double(Foundation.exp(Float($0))) }
            case "Log": f = { Double(Foundation.log(Float($0))) }
            case "Not": f = { $0 == 0 ? 1 : 0 }
            case "Sign": f = { $0 > 0 ? 1 : $0 < 0 ? -1 : 0 }
            default: f = { max($0, 0) }
            }
            return try FoldingKernels.map([t], integer: t.isInteger) { f($0[0]) }
        case "Add", "Sub", "Mul", "Div", "Mod", "Pow", "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor":
            let (a, b) = (try input(0), try input(1))
            let integer = a.isInteger
            let fmod = node.int("fmod", default: 0) != 0
            let comparison = ["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor"].contains(node.opType)
            let op = node.opType
            return try FoldingKernels.map([a, b], integer: integer || comparison) { v in
                let (p, q) = (v[0], v[1])
                switch op {
                case "Add": return p + q
                case "Sub": return p - q
                case "Mul": return p * q
                case "Div":
                    guard !integer || q != 0 else { throw FoldingFailure("divides an integer by zero") }
                    return integer ? (p / q).rounded(.towardZero) : p / q
                case "Mod":
                    guard !integer || q != 0 else { throw FoldingFailure("takes an integer modulo zero") }
                    let r = p.truncatingRemainder(dividingBy: q)
                    return fmod || r == 0 || (r < 0) == (q < 0) ? r : r + q
                case "Pow": return Double(Foundation.pow(Float(p), Float(q)))
                case "Equal": return p == q ? 1 : 0
                case "Less": return p < q ? 1 : 0
                case "LessOrEqual": return p <= q ? 1 : 0
                case "Greater": return p > q ? 1 : 0
                case "GreaterOrEqual": return p >= q ? 1 : 0
                case "And": return p != 0 && q != 0 ? 1 : 0
                case "Or": return p != 0 || q != 0 ? 1 : 0
                default: return (p != 0) != (q != 0) ? 1 : 0
                }
            }
        case "Sum", "Max", "Min", "Mean":
            let all = try inputs.indices.map { try input($0) }
            let op = node.opType
            return try FoldingKernels.map(all, integer: all[0].isInteger) { v in
                switch op {
                case "Sum": return v.reduce(0, +)
                case "Max": return v.max()!
                case "Min": return v.min()!
                default: return v.reduce(0, +) / Double(v.count)
                }
            }
        case "Where":
            let (c, a, b) = (try input(0), try input(1), try input(2))
            return try FoldingKernels.map([c, a, b], integer: a.isInteger) { $0[0] != 0 ? $0[1] : $0[2] }
        case "Clip":
            let t = try input(0)
            let lo = try optional(1).map { try scalar($0, "min") } ?? Double(node.float("min", default: -.infinity))
            let hi = try optional(2).map { try scalar($0, "max") } ?? Double(node.float("max", default: .infinity))
            return try FoldingKernels.map([t], integer: t.isInteger) { min(max($0[0], lo), hi) }
        case "Gather":
            return try FoldingKernels.gather(try input(0), try input(1), axis: node.int("axis", default: 0))
        case "GatherElements":
            return try FoldingKernels.gatherElements(try input(0), try input(1), axis: node.int("axis", default: 0))
        case "Slice":
            let t = try input(0)
            if opset >= 10 {
                guard let s = try ints(1, "starts"), let e = try ints(2, "ends") else { throw FoldingFailure("has no starts or ends") }
                return try FoldingKernels.slice(t, starts: s, ends: e, axes: try ints(3, "axes"), steps: try ints(4, "steps"))
            }
            return try FoldingKernels.slice(t, starts: node.ints("starts") ?? [], ends: node.ints("ends") ?? [], axes: node.ints("axes"), steps: nil)
        case "Concat":
            return try FoldingKernels.concat(try inputs.indices.map { try input($0) }, axis: node.int("axis", default: 0))
        case "Unsqueeze":
            let t = try input(0)
            guard let axes = opset >= 13 ? try ints(1, "axes") : node.ints("axes") else { throw FoldingFailure("has no axes") }
            let rank = t.shape.count + axes.count
            let normal = Set(try axes.map { try FoldingKernels.axis($0, rank: rank) })
            guard normal.count == axes.count else { throw FoldingFailure("repeats an axis in \(axes)") }
            var rest = t.shape[...]
            return KnownTensor(isInteger: t.isInteger, shape: (0..<rank).map { normal.contains($0) ? 1 : rest.popFirst() ?? 1 }, values: t.values)
        case "Squeeze":
            let t = try input(0)
            let axes = opset >= 13 ? try ints(1, "axes") : node.ints("axes")
            let normal = Set(try (axes ?? t.shape.indices.filter { t.shape[$0] == 1 }).map { try FoldingKernels.axis($0, rank: t.shape.count) })
            guard normal.allSatisfy({ t.shape[$0] == 1 }) else { throw FoldingFailure("squeezes axes of \(t.shape) that are not 1") }
            return KnownTensor(isInteger: t.isInteger, shape: t.shape.indices.filter { !normal.contains($0) }.map { t.shape[$0] }, values: t.values)
        case "Reshape":
            let t = try input(0)
            guard let spec = try ints(1, "shape") else { throw FoldingFailure("has no shape") }
            let shape = try FoldingKernels.reshapeTarget(t.shape, spec, allowZero: node.int("allowzero", default: 0) != 0)
            return KnownTensor(isInteger: t.isInteger, shape: shape, values: t.values)
        case "Flatten":
            let t = try input(0)
            let a = try FoldingKernels.axis(node.int("axis", default: 1), rank: t.shape.count + 1)
            let shape = [Checked.product(t.shape[..<a]) ?? 0, Checked.product(t.shape[a...]) ?? 0]
            return KnownTensor(isInteger: t.isInteger, shape: shape, values: t.values)
        case "Transpose":
            return try FoldingKernels.transpose(try input(0), perm: node.ints("perm"))
        case "Expand":
            guard let target = try ints(1, "shape") else { throw FoldingFailure("has no shape") }
            return try FoldingKernels.expand(try input(0), to: target)
        case "Tile":
            guard let repeats = try ints(1, "repeats") else { throw FoldingFailure("has no repeats") }
            return try FoldingKernels.tile(try input(0), repeats: repeats)
        case "ConstantOfShape":
            guard let shape = try ints(0, "shape") else { throw FoldingFailure("has no shape") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw FoldingFailure("has a negative size in \(shape)") }
            let fill = try node.attribute("value").map { try KnownTensor(constant($0.t, location: "node '\(node.name)' value")) }
            let value = fill?.values.first ?? 0
            return KnownTensor(isInteger: fill?.isInteger ?? false, shape: shape, values: [Double?](repeating: value, count: try FoldingKernels.count(shape)))
        case "Range":
            let (s, l, d) = (try input(0), try input(1), try input(2))
            return try FoldingKernels.range(start: try scalar(s, "start"), limit: try scalar(l, "limit"), delta: try scalar(d, "delta"), integer: s.isInteger)
        case "ReduceProd", "ReduceSum", "ReduceMin", "ReduceMax", "ReduceMean":
            let t = try input(0)
            let axesFromInput = opset >= 18 || (node.opType == "ReduceSum" && opset >= 13)
            let axes = (axesFromInput ? try ints(1, "axes") : node.ints("axes")) ?? []
            if axes.isEmpty, node.int("noop_with_empty_axes", default: 0) != 0 { return t }
            let op = node.opType
            return try FoldingKernels.reduce(t, axes: axes, keepDims: node.int("keepdims", default: 1) != 0) { v in
                switch op {
                case "ReduceProd": return v.reduce(1, *)
                case "ReduceSum": return v.reduce(0, +)
                case "ReduceMin": return v.min() ?? .infinity
                case "ReduceMax": return v.max() ?? -.infinity
                default: return v.reduce(0, +) / Double(max(v.count, 1))
                }
            }
        default:
            throw FoldingFailure("is not foldable")
        }
    }

    /// The single known value of a scalar (or one-element) input.
    private func scalar(_ t: KnownTensor, _ what: String) throws -> Double {
        guard t.values.count == 1, let v = t.values[0] else { throw FoldingFailure("needs \(what) to be a known scalar") }
        return v
    }

    /// ONNX `Cast` to data type `target` (integers truncate toward zero; bool is x ≠ 0).
    private func cast(_ t: KnownTensor, to target: Int32) throws -> KnownTensor {
        switch target {
        case ONNXDataType.float16:
            return KnownTensor(isInteger: false, shape: t.shape, values: t.values.map { $0.map { Double(HalfPrecision.round(Float($0))) } })
        case ONNXDataType.float, ONNXDataType.double, ONNXDataType.bfloat16:  // bfloat16 kept at float precision
            return KnownTensor(isInteger: false, shape: t.shape, values: t.values)
        case ONNXDataType.bool:
            return KnownTensor(isInteger: true, shape: t.shape, values: t.values.map { $0.map { $0 != 0 ? 1 : 0 } })
        case ONNXDataType.int64, ONNXDataType.int32, ONNXDataType.int16, ONNXDataType.int8, ONNXDataType.uint8, ONNXDataType.uint16, ONNXDataType.uint32, ONNXDataType.uint64:
            return KnownTensor(isInteger: true, shape: t.shape, values: t.values.map { $0.map { Double(KnownTensor.int64($0)) } })
        default:
            throw FoldingFailure("casts to data type \(target), which ModelPress does not fold")
        }
    }
}
