import CHDF5
import TensorCore

/// A new numeric dataset being written row block by row block (float32 or int64 elements),
/// so that copying a large tensor never holds all of it.
final class HDF5DatasetWriter {
    private let handle: HDF5Handle
    private let filePath: String
    private let name: String
    /// Dimensions, outermost first (empty for a scalar).
    let shape: [Int]
    /// Whether the elements are int64 (else float32).
    let isInteger: Bool
    /// The new dataset as an object that carries attributes.
    let attributes: HDF5Object

    /// Creates dataset `relative` in `group` with `shape`, holding int64 when `integer`, else float32.
    init(in group: HDF5Group, _ relative: String, shape: [Int], integer: Bool) throws {
        name = group.childPath(relative)
        filePath = group.filePath
        self.shape = shape
        isInteger = integer
        let dims = shape.map { hsize_t($0) }
        let space = HDF5Handle(
            try HDF5Status.check(shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), dims, nil), file: filePath, object: name, "creating dataspace"),
            close: H5Sclose)
        let type = integer ? chdf5_native_int64() : chdf5_native_float()
        handle = HDF5Handle(
            try HDF5Status.check(
                H5Dcreate2(group.handle.id, relative, type, space.id, chdf5_p_default(), chdf5_p_default(), chdf5_p_default()),
                file: filePath, object: name, "creating dataset"), close: H5Dclose)
        attributes = HDF5Object(handle: handle, file: group.file, filePath: filePath, name: name)
    }

    /// Writes `values` (float32 datasets) as rows `rows` along the first axis, or the whole scalar.
    func write(rows: Range<Int>, _ values: [Float]) throws { try write(rows: rows, values, memoryType: chdf5_native_float()) }

    /// Writes `values` (int64 datasets) as rows `rows` along the first axis, or the whole scalar.
    func write(rows: Range<Int>, _ values: [Int64]) throws { try write(rows: rows, values, memoryType: chdf5_native_int64()) }

    private func write<T>(rows: Range<Int>, _ values: [T], memoryType: hid_t) throws {
        if shape.isEmpty {
            try values.withUnsafeBufferPointer { buffer in
                try HDF5Status.check(H5Dwrite(handle.id, memoryType, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), buffer.baseAddress), file: filePath, object: name, "writing dataset")
            }
            return
        }
        guard !values.isEmpty else { return }
        let fileSpace = HDF5Handle(try HDF5Status.check(H5Dget_space(handle.id), file: filePath, object: name, "reading shape"), close: H5Sclose)
        var start = [hsize_t](repeating: 0, count: shape.count)
        var counts = shape.map { hsize_t($0) }
        start[0] = hsize_t(rows.lowerBound)
        counts[0] = hsize_t(rows.count)
        try HDF5Status.check(H5Sselect_hyperslab(fileSpace.id, H5S_SELECT_SET, start, nil, counts, nil), file: filePath, object: name, "selecting rows")
        let memorySpace = HDF5Handle(
            try HDF5Status.check(H5Screate_simple(Int32(counts.count), counts, nil), file: filePath, object: name, "creating memory space"), close: H5Sclose)
        try values.withUnsafeBufferPointer { buffer in
            try HDF5Status.check(H5Dwrite(handle.id, memoryType, memorySpace.id, fileSpace.id, chdf5_p_default(), buffer.baseAddress), file: filePath, object: name, "writing rows")
        }
    }
}
