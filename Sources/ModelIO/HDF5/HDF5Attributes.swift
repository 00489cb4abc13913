import CHDF5
import Foundation
import TensorCore

/// An open HDF5 object (group or dataset) that carries attributes; owns its handle and
/// keeps its file open.
public class HDF5Object {
    let handle: HDF5Handle
    let file: HDF5Handle
    /// The file's path (for messages).
    public let filePath: String
    /// The object's absolute HDF5 path.
    public let name: String

    init(handle: HDF5Handle, file: HDF5Handle, filePath: String, name: String) {
        self.handle = handle
        self.file = file
        self.filePath = filePath
        self.name = name
    }
}

extension HDF5Object {
    /// Whether the attribute `key` exists.
    public func hasAttribute(_ key: String) -> Bool {
        H5Aexists(handle.id, key) > 0
    }

    /// The attribute `key` as strings: a scalar string gives one element, a string array
    /// all; fixed-length (null-padded) and variable-length strings alike. An attribute with
    /// no elements (Keras stores empty name lists as empty float arrays) gives `[]`.
    public func stringsAttribute(_ key: String) throws -> [String] {
        let attribute = try openAttribute(key)
        let type = HDF5Handle(try check(H5Aget_type(attribute.id), key, "reading attribute type"), close: H5Tclose)
        let space = HDF5Handle(try check(H5Aget_space(attribute.id), key, "reading attribute shape"), close: H5Sclose)
        let count = Int(try check(H5Sget_simple_extent_npoints(space.id), key, "reading attribute size"))
        if count == 0 { return [] }
        try checkFits(count: count, elementSize: H5Tget_size(type.id), key)
        guard H5Tget_class(type.id) == H5T_STRING else {
            throw ModelPressError.invalidModel(
                file: filePath, location: "attribute '\(name)@\(key)'",
                message: "is not a string attribute", hint: "re-save the model with Keras")
        }
        if H5Tis_variable_str(type.id) > 0 {
            let memory = HDF5Handle(try check(H5Tcopy(chdf5_c_s1()), key, "copying type"), close: H5Tclose)
            try check(H5Tset_size(memory.id, chdf5_variable_length()), key, "setting string size")
            try check(H5Tset_cset(memory.id, H5Tget_cset(type.id)), key, "setting character set")
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            try check(H5Aread(attribute.id, memory.id, &pointers), key, "reading string attribute")
            defer { _ = H5Dvlen_reclaim(memory.id, space.id, chdf5_p_default(), &pointers) }
            return pointers.map { $0.map { String(cString: $0) } ?? "" }
        }
        let size = H5Tget_size(type.id)
        guard size > 0, let total = Checked.multiply(size, count) else { return [] }
        var bytes = [UInt8](repeating: 0, count: total)
        try check(H5Aread(attribute.id, type.id, &bytes), key, "reading string attribute")
        return (0..<count).map { i in
            let chunk = bytes[(i * size)..<((i + 1) * size)]
            return String(decoding: chunk.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// The attribute `key` as one string (the first element of a string array).
    public func stringAttribute(_ key: String) throws -> String {
        guard let first = try stringsAttribute(key).first else {
            throw ModelPressError.invalidModel(
                file: filePath, location: "attribute '\(name)@\(key)'",
                message: "is empty", hint: "re-save the model with Keras")
        }
        return first
    }

    /// The numeric attribute `key` converted to Double (all elements).
    public func doublesAttribute(_ key: String) throws -> [Double] {
        let attribute = try openAttribute(key)
        let space = HDF5Handle(try check(H5Aget_space(attribute.id), key, "reading attribute shape"), close: H5Sclose)
        let count = Int(try check(H5Sget_simple_extent_npoints(space.id), key, "reading attribute size"))
        try checkFits(count: count, elementSize: 8, key)
        var values = [Double](repeating: 0, count: count)
        if count > 0 { try check(H5Aread(attribute.id, chdf5_native_double(), &values), key, "reading numeric attribute") }
        return values
    }

    /// Writes (replacing) a scalar variable-length UTF-8 string attribute.
    public func setAttribute(_ key: String, string value: String) throws {
        if hasAttribute(key) { try check(H5Adelete(handle.id, key), key, "replacing attribute") }
        let type = HDF5Handle(try check(H5Tcopy(chdf5_c_s1()), key, "copying type"), close: H5Tclose)
        try check(H5Tset_size(type.id, chdf5_variable_length()), key, "setting string size")
        try check(H5Tset_cset(type.id, H5T_CSET_UTF8), key, "setting character set")
        let space = HDF5Handle(try check(H5Screate(H5S_SCALAR), key, "creating dataspace"), close: H5Sclose)
        let attribute = HDF5Handle(
            try check(
                H5Acreate2(handle.id, key, type.id, space.id, chdf5_p_default(), chdf5_p_default()),
                key, "creating attribute"), close: H5Aclose)
        try value.withCString { cString in
            var pointer: UnsafePointer<CChar>? = cString
            try check(H5Awrite(attribute.id, type.id, &pointer), key, "writing attribute")
        }
    }

    /// Writes a new 1-D variable-length UTF-8 string array attribute.
    func setAttribute(_ key: String, strings values: [String]) throws {
        let type = HDF5Handle(try check(H5Tcopy(chdf5_c_s1()), key, "copying type"), close: H5Tclose)
        try check(H5Tset_size(type.id, chdf5_variable_length()), key, "setting string size")
        try check(H5Tset_cset(type.id, H5T_CSET_UTF8), key, "setting character set")
        var dims = [hsize_t(values.count)]
        let space = HDF5Handle(try check(H5Screate_simple(1, &dims, nil), key, "creating dataspace"), close: H5Sclose)
        let attribute = HDF5Handle(try check(H5Acreate2(handle.id, key, type.id, space.id, chdf5_p_default(), chdf5_p_default()), key, "creating attribute"), close: H5Aclose)
        let cStrings = values.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var pointers: [UnsafePointer<CChar>?] = cStrings.map { $0.map { UnsafePointer($0) } }
        try check(H5Awrite(attribute.id, type.id, &pointers), key, "writing attribute")
    }

    /// Writes a new 1-D float64 array attribute.
    func setAttribute(_ key: String, doubles values: [Double]) throws {
        var dims = [hsize_t(values.count)]
        let space = HDF5Handle(try check(H5Screate_simple(1, &dims, nil), key, "creating dataspace"), close: H5Sclose)
        let attribute = HDF5Handle(
            try check(H5Acreate2(handle.id, key, chdf5_native_double(), space.id, chdf5_p_default(), chdf5_p_default()), key, "creating attribute"), close: H5Aclose)
        var v = values
        try check(H5Awrite(attribute.id, chdf5_native_double(), &v), key, "writing attribute")
    }

    /// Writes (replacing) a scalar float64 attribute.
    public func setAttribute(_ key: String, double value: Double) throws {
        if hasAttribute(key) { try check(H5Adelete(handle.id, key), key, "replacing attribute") }
        let space = HDF5Handle(try check(H5Screate(H5S_SCALAR), key, "creating dataspace"), close: H5Sclose)
        let attribute = HDF5Handle(
            try check(
                H5Acreate2(handle.id, key, chdf5_native_double(), space.id, chdf5_p_default(), chdf5_p_default()),
                key, "creating attribute"), close: H5Aclose)
        var v = value
        try check(H5Awrite(attribute.id, chdf5_native_double(), &v), key, "writing attribute")
    }

    /// Refuses an attribute whose declared element count cannot fit in the file.
    private func checkFits(count: Int, elementSize: Int, _ key: String) throws {
        let fileSize = file.fileSize
        guard let bytes = Checked.multiply(count, max(1, elementSize)), bytes <= HDF5Limits.maxStoredBytes(fileSize: fileSize, compressed: false) else {
            throw ModelPressError.invalidModel(
                file: filePath, location: "attribute '\(name)@\(key)'",
                message: "declares \(count) elements, more than the file (\(fileSize) bytes) can hold",
                hint: "the file is damaged; re-save the model with Keras")
        }
    }

    private func openAttribute(_ key: String) throws -> HDF5Handle {
        guard hasAttribute(key) else {
            _ = HDF5Status.takeErrorStack()
            throw ModelPressError.missingEntry(file: filePath, path: "\(name)@\(key)", available: [])
        }
        return HDF5Handle(try check(H5Aopen(handle.id, key, chdf5_p_default()), key, "opening attribute"), close: H5Aclose)
    }

    @discardableResult
    private func check<T: BinaryInteger>(_ status: T, _ key: String, _ operation: String) throws -> T {
        try HDF5Status.check(status, file: filePath, object: "\(name)@\(key)", operation)
    }
}
