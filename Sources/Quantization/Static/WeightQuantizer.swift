import TensorCore

/// Symmetric int8 weight parameters and int32 bias parameters.
public enum WeightQuantizer {
    /// Symmetric int8 parameters for `weights` (zero point 0, `scale = max|w| / 127`), one
    /// per index of `axis` (the output-channel axis) or one for the tensor when `axis` is nil.
    /// All-zero channels get scale 1 (any positive scale represents them exactly).
    public static func symmetricInt8(_ weights: Tensor, axis: Int?) -> TensorQuantization {
        guard let axis, axis < weights.rank else {
            let bound = weights.storage.reduce(Float(0)) { max($0, abs($1)) }
            return TensorQuantization(scales: [scale(bound)], zeroPoints: [0], axis: nil, type: .int8)
        }
        let channels = weights.shape[axis]
        let inner = weights.shape[(axis + 1)...].reduce(1, *)
        var bounds = [Float](repeating: 0, count: channels)
        for (i, w) in weights.storage.enumerated() {
            let c = (i / inner) % channels
            bounds[c] = max(bounds[c], abs(w))
        }
        return TensorQuantization(scales: bounds.map(scale), zeroPoints: [Int32](repeating: 0, count: channels), axis: axis, type: .int8)
    }

    /// int32 bias parameters: `scale_c = s_in · s_w,c`, zero point 0, along axis 0 of the bias
    /// when the weights are per channel — what integer runtimes accumulate into.
    public static func int32Bias(inputScale: Float, weights: TensorQuantization) -> TensorQuantization {
        let scales = weights.scales.map { inputScale * $0 }
        return TensorQuantization(scales: scales, zeroPoints: [Int32](repeating: 0, count: scales.count),
                                  axis: scales.count > 1 ? 0 : nil, type: .int32)
    }

    /// `bound / 127`, or 1 for an all-zero tensor.
    static func scale(_ bound: Float) -> Float { bound > 0 ? bound / 127 : 1 }
}
