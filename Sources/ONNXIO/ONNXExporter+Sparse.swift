import Foundation
import ONNXProto
import TensorCore

/// ONNX `sparse_initializer`s (`SparseTensorProto`, COO): `values` is a float32 tensor of shape
/// [NNZ] named after the initializer, `indices` an int64 tensor of shape [NNZ] holding the
/// linearized (row-major) index of each value, ascending, and `dims` the dense shape — form (b)
/// of the ONNX spec. onnxruntime densifies them when it creates a session.
enum ONNXSparse {
    /// Bytes a float32 tensor of `count` elements with `nonzeros` nonzeros takes dense (4·count)
    /// and as COO with int64 linearized indices (12·nonzeros).
    static func isSmallerSparse(count: Int, nonzeros: Int) -> Bool {
        guard let sparse = Checked.multiply(nonzeros, 12), let dense = Checked.multiply(count, 4) else { return false }
        return sparse < dense
    }

    /// Splits `initializers`: the float32 tensors of rank ≥ 1 (among `candidates` when given) that
    /// are smaller as COO move to the second list (same order); everything else stays dense.
    static func split(_ initializers: [Onnx_TensorProto], candidates: Set<String>? = nil) throws -> (dense: [Onnx_TensorProto], sparse: [Onnx_SparseTensorProto]) {
        var dense: [Onnx_TensorProto] = [], sparse: [Onnx_SparseTensorProto] = []
        for proto in initializers {
            guard proto.dataType == ONNXDataType.float, !proto.dims.isEmpty, !proto.rawData.isEmpty,
                candidates.map({ $0.contains(proto.name) }) ?? true
            else {
                dense.append(proto)
                continue
            }
            let tensor = try ONNXTensor.floats(proto) { ModelPressError.internalError("sparse export: \($0)") }
            let nonzeros = tensor.storage.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
            guard isSmallerSparse(count: tensor.count, nonzeros: nonzeros) else {
                dense.append(proto)
                continue
            }
            var values: [Float] = [], indices: [Int64] = []
            values.reserveCapacity(nonzeros)
            indices.reserveCapacity(nonzeros)
            for (i, v) in tensor.storage.enumerated() where v != 0 {
                values.append(v)
                indices.append(Int64(i))
            }
            var s = Onnx_SparseTensorProto()
            s.values = ONNXTensor.float(proto.name, try Tensor(shape: [nonzeros], storage: values))
            s.indices = ONNXTensor.int64(proto.name + "_indices", indices, shape: [nonzeros])
            s.dims = proto.dims
            sparse.append(s)
        }
        return (dense, sparse)
    }

    /// The dense constant a `SparseTensorProto` stands for: `values` scattered at `indices`
    /// (form (a) [NNZ, rank] or (b) [NNZ] linearized), zeros elsewhere. `fail` builds the error
    /// (exit 2) for indices out of range, not ascending, or of the wrong shape.
    static func densify(_ proto: Onnx_SparseTensorProto, _ fail: (String) -> ModelPressError) throws -> ONNXConstant {
        let name = proto.values.name
        let dims = proto.dims.map { Int(clamping: $0) }
        guard dims.allSatisfy({ $0 >= 0 }), let count = Checked.product(dims) else { throw fail("sparse tensor '\(name)' has invalid dims \(proto.dims)") }
        guard proto.values.dataType == ONNXDataType.float || proto.values.dataType == ONNXDataType.double else {
            throw fail("sparse tensor '\(name)' has values of data type \(proto.values.dataType); ModelPress reads float sparse initializers only")
        }
        let values = try ONNXTensor.floats(proto.values, fail).storage
        let raw = try ONNXTensor.int64s(proto.indices, fail)
        let indexDims = proto.indices.dims.map { Int(clamping: $0) }
        var linear: [Int] = []
        linear.reserveCapacity(values.count)
        if indexDims.count == 2, indexDims[0] == values.count, indexDims[1] == dims.count {
            let rank = dims.count
            for i in 0..<values.count {
                var flat = 0
                for d in 0..<rank {
                    let k = raw[i * rank + d]
                    guard k >= 0, k < dims[d] else { throw fail("sparse tensor '\(name)': index \(k) of value \(i) is outside dimension \(d) (size \(dims[d]))") }
                    flat = flat * dims[d] + Int(k)
                }
                linear.append(flat)
            }
        } else if indexDims == [values.count] {
            linear = raw.map { Int(clamping: $0) }
        } else {
            throw fail("sparse tensor '\(name)' has indices of shape \(indexDims) for \(values.count) values of a rank-\(dims.count) tensor (expected [NNZ] or [NNZ, rank])")
        }
        var storage = [Float](repeating: 0, count: count)
        var previous = -1
        for (i, k) in linear.enumerated() {
            guard k > previous, k < count else {
                throw fail("sparse tensor '\(name)': index \(k) of value \(i) is out of range or not ascending (the ONNX spec requires ascending indices without duplicates)")
            }
            storage[k] = values[i]
            previous = k
        }
        return ONNXConstant(tensor: try Tensor(shape: dims, storage: storage), integers: nil)
    }
}
