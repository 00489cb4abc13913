import Engine
import TensorCore

extension GradientTape {
    /// Forward of one node with the Engine's float kernels; the tape keeps referencing the
    /// inputs, so the Executor's in-place kernels copy instead of overwriting them.
    static func forwardOp(_ node: Node, _ args: [Tensor?]) throws -> Tensor {
        var arguments = args
        return try Executor.execute(node.op, &arguments)
    }

    /// Input gradients of one node (`nil` where none flows), from its output gradient `dy`.
    static func backwardOp(_ node: Node, index: Int, dy: Tensor, tape: Tape, graph: Graph, batchNorm: BatchNormMode) throws -> [Tensor?] {
        func value(_ i: Int) throws -> Tensor {
            guard i < node.inputs.count, let t = tape.values[node.inputs[i]] ?? graph.initializers[node.inputs[i]] else {
                throw ModelPressError.internalError("backward of node '\(node.name)': input \(i) was not kept")
            }
            return t
        }
        func output() throws -> Tensor {
            guard let t = tape.values[node.output] else { throw ModelPressError.internalError("backward of node '\(node.name)': output was not kept") }
            return t
        }
        let hasBias = node.inputs.count > 2 && !node.inputs[2].isEmpty
        switch node.op {
        case .conv2D(let a):
            let (dx, dw, db) = try conv2DBackward(x: try value(0), weights: try value(1), dy: dy, attributes: a)
            return [dx, dw, hasBias ? db : nil]
        case .linear:
            let (dx, dw, db) = try linearBackward(x: try value(0), weights: try value(1), dy: dy)
            return [dx, dw, hasBias ? db : nil]
        case .batchNormalization(let epsilon):
            if let cache = tape.batchNorm[index] {
                let (dx, ds, db) = try batchNormTrainingBackward(dy: dy, scale: try value(1), cache: cache)
                return [dx, ds, db, nil, nil]
            }
            let (dx, ds, db) = try batchNormFrozenBackward(x: try value(0), dy: dy, scale: try value(1), mean: try value(3),
                                                           variance: try value(4), epsilon: epsilon)
            return [dx, ds, db, nil, nil]
        case .activation(let f): return [try activationBackward(f, x: try value(0), dy: dy)]
        case .prelu:
            let (dx, ds) = try preluBackward(x: try value(0), slope: try value(1), dy: dy)
            return [dx, ds]
        case .softmax(let axis):
            // The kept output may carry a dropout mask; recompute the softmax from its input.
            let y = tape.masks[node.output] == nil ? try output() : softmax(try value(0), axis: axis)
            return [try softmaxBackward(y: y, dy: dy, axis: axis)]
        case .maxPool2D(let a): return [try pool2DBackward(x: try value(0), dy: dy, attributes: a, max: true)]
        case .averagePool2D(let a): return [try pool2DBackward(x: try value(0), dy: dy, attributes: a, max: false)]
        case .globalAveragePool: return [try globalPoolBackward(x: try value(0), dy: dy, max: false)]
        case .globalMaxPool: return [try globalPoolBackward(x: try value(0), dy: dy, max: true)]
        case .flatten, .reshape, .identity: return [try dy.reshaped(try value(0).shape)]
        case .transpose(let perm): return [try transposeBackward(dy: dy, perm: perm)]
        case .elementwise(let kind):
            let inputs = try (0..<node.inputs.count).map(value)
            let y = tape.masks[node.output] == nil ? try output() : try elementwise(kind, inputs)
            return try elementwiseBackward(kind, inputs: inputs, y: y, dy: dy)
        case .concat(let axis):
            return try concatBackward(dy: dy, shapes: try (0..<node.inputs.count).map { try value($0).shape }, axis: axis)
        case .pad(let pads): return [try padBackward(dy: dy, pads: pads, inputShape: try value(0).shape)]
        case .slice(let begin, _): return [try sliceBackward(dy: dy, begin: begin, inputShape: try value(0).shape)]
        case .upsampleNearest(let scales):
            return [try upsampleNearestBackward(dy: dy, scales: scales, inputShape: try value(0).shape)]
        }
    }
}
