import CHDF5
import TensorCore

/// A dataset in an open HDF5 file: its shape, element class, and row-range reads that
/// convert any integer or float type to the requested one.
public final class HDF5Dataset: HDF5Object {
    /// Dimensions, outermost first (empty for a scalar).
    public let shape: [Int]
    /// Whether the stored elements are numbers (integers or floats).
    public let isNumeric: Bool
    /// Whether the stored elements are integers.
    public let isInteger: Bool

    init(file: HDF5Handle, path: String, at name: String) throws {
        let id = try HDF5Status.check(H5Dopen2(file.id, name, chdf5_p_default()), file: path, object: name, "opening dataset")
        let handle = HDF5Handle(id, close: H5Dclose)
        let space = HDF5Handle(try HDF5Status.check(H5Dget_space(id), file: path, object: name, "reading shape"), close: H5Sclose)
        let rank = Int(try HDF5Status.check(H5Sget_simple_extent_ndims(space.id), file: path, object: name, "reading rank"))
        var dims = [hsize_t](repeating: 0, count: rank)
        if rank > 0 {
            try HDF5Status.check(H5Sget_simple_extent_dims(space.id, &dims, nil), file: path, object: name, "reading shape")
        }
        shape = dims.map { Int(clamping: $0) }
        let type = HDF5Handle(try HDF5Status.check(H5Dget_type(id), file: path, object: name, "reading type"), close: H5Tclose)
        let typeClass = H5Tget_class(type.id)
        isInteger = typeClass == H5T_INTEGER
        isNumeric = typeClass == H5T_INTEGER || typeClass == H5T_FLOAT
        super.init(handle: handle, file: file, filePath: path, name: name)
        try checkDeclaredSize(elementSize: H5Tget_size(type.id))
    }

    /// Refuses a shape the file cannot hold (a corrupted dataspace), before any read allocates.
    private func checkDeclaredSize(elementSize: Int) throws {
        let plist = H5Dget_create_plist(handle.id)
        let compressed = plist >= 0 && H5Pget_nfilters(plist) > 0
        if plist >= 0 { H5Pclose(plist) } else { _ = HDF5Status.takeErrorStack() }
        let fileSize = file.fileSize
        let limit = HDF5Limits.maxStoredBytes(fileSize: fileSize, compressed: compressed)
        guard let elements = Checked.product(shape), let bytes = Checked.multiply(elements, max(1, elementSize)), bytes <= limit else {
            throw ModelPressError.invalidData(
                file: filePath, path: name,
                message: "declares shape \(shape) of \(max(1, elementSize))-byte elements, more than the file (\(fileSize) bytes\(compressed ? ", compressed" : "")) can hold; the file is damaged.\nHINT: re-save it")
        }
    }

    /// Number of elements.
    public var count: Int { Checked.product(shape) ?? 0 }

    /// All elements converted to Float, row-major.
    public func readFloats() throws -> [Float] {
        try read(rows: 0..<(shape.first ?? 1), as: Float.self, memoryType: chdf5_native_float())
    }

    /// Rows `rows` (along the first axis) converted to Float, row-major.
    public func readFloats(rows: Range<Int>) throws -> [Float] {
        try read(rows: rows, as: Float.self, memoryType: chdf5_native_float())
    }

    /// Rows `rows` (along the first axis) converted to Int64.
    public func readInt64(rows: Range<Int>) throws -> [Int64] {
        try read(rows: rows, as: Int64.self, memoryType: chdf5_native_int64())
    }

    /// The whole dataset as a float32 tensor of its shape.
    public func readTensor() throws -> Tensor {
        try Tensor(shape: shape, storage: try readFloats())
    }

    private func read<T: Numeric>(rows: Range<Int>, as: T.Type, memoryType: hid_t) throws -> [T] {
        guard isNumeric else {
            throw ModelPressError.invalidData(file: filePath, path: name, message: "holds non-numeric elements; expected numbers")
        }
        if shape.isEmpty {
            var value = [T](repeating: 0, count: 1)
            try HDF5Status.check(
                H5Dread(handle.id, memoryType, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), &value),
                file: filePath, object: name, "reading dataset")
            return value
        }
        guard rows.lowerBound >= 0, rows.upperBound <= shape[0] else {
            throw ModelPressError.internalError("rows \(rows) outside dataset \(name) of \(shape[0]) rows")
        }
        let rowSize = Checked.product(shape.dropFirst()) ?? 0
        guard let total = Checked.multiply(rowSize, rows.count), let bytes = Checked.multiply(total, MemoryLayout<T>.stride),
            bytes <= HDF5Limits.maxReadBytes
        else {
            throw ModelPressError.invalidData(
                file: filePath, path: name,
                message: "shape \(shape) is too large to read at once (limit \(HDF5Limits.maxReadBytes >> 20) MB).\nHINT: raise it with MODELPRESS_MAX_READ_MB if the file is genuine")
        }
        var values = [T](repeating: 0, count: total)
        if total == 0 { return values }
        let fileSpace = HDF5Handle(try HDF5Status.check(H5Dget_space(handle.id), file: filePath, object: name, "reading shape"), close: H5Sclose)
        var start = [hsize_t](repeating: 0, count: shape.count)
        var counts = shape.map { hsize_t($0) }
        start[0] = hsize_t(rows.lowerBound)
        counts[0] = hsize_t(rows.count)
        try HDF5Status.check(
            H5Sselect_hyperslab(fileSpace.id, H5S_SELECT_SET, start, nil, counts, nil),
            file: filePath, object: name, "selecting rows")
        let memorySpace = HDF5Handle(
            try HDF5Status.check(
                H5Screate_simple(Int32(shape.count), counts, nil),
                file: filePath, object: name, "creating memory space"), close: H5Sclose)
        try HDF5Status.check(
            H5Dread(handle.id, memoryType, memorySpace.id, fileSpace.id, chdf5_p_default(), &values),
            file: filePath, object: name, "reading dataset")
        return values
    }
}

extension HDF5Group {
    /// Writes a new float32 dataset of `shape` holding `values` (row-major).
    public func write(_ values: [Float], shape: [Int], as relative: String) throws {
        try checkCount(values.count, shape)
        try HDF5DatasetWriter(in: self, relative, shape: shape, integer: false).write(rows: 0..<(shape.first ?? 1), values)
    }

    /// Writes a new int64 dataset of `shape` holding `values` (row-major).
    public func write(_ values: [Int64], shape: [Int], as relative: String) throws {
        try checkCount(values.count, shape)
        try HDF5DatasetWriter(in: self, relative, shape: shape, integer: true).write(rows: 0..<(shape.first ?? 1), values)
    }

    private func checkCount(_ count: Int, _ shape: [Int]) throws {
        guard Checked.product(shape) == count else { throw ModelPressError.internalError("writing \(count) values as shape \(shape)") }
    }
}
