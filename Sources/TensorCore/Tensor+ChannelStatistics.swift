extension Tensor {
    /// The largest `|x|` along each index of `axis` (one value per channel), over every other axis.
    public func absMax(alongAxis axis: Int) -> [Float] {
        let channels = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var bounds = [Float](repeating: 0, count: channels)
        storage.withUnsafeBufferPointer { x in
            for i in 0..<x.count {
                let c = (i / inner) % channels
                bounds[c] = Swift.max(bounds[c], abs(x[i]))
            }
        }
        return bounds
    }
}
