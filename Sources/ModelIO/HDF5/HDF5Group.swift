import CHDF5
import TensorCore

/// A group in an open HDF5 file: named children (groups, datasets) and attributes.
public final class HDF5Group: HDF5Object {
    init(file: HDF5Handle, path: String, at name: String) throws {
        let id = try HDF5Status.check(H5Gopen2(file.id, name, chdf5_p_default()), file: path, object: name, "opening group")
        super.init(handle: HDF5Handle(id, close: H5Gclose), file: file, filePath: path, name: name)
    }

    /// Absolute path of child `relative`.
    func childPath(_ relative: String) -> String {
        name == "/" ? "/" + relative : name + "/" + relative
    }

    /// Names of the direct children, in name order.
    public func children() throws -> [String] {
        var info = H5G_info_t()
        try HDF5Status.check(H5Gget_info(handle.id, &info), file: filePath, object: name, "listing group")
        var names: [String] = []
        for i in 0..<info.nlinks {
            let length = try HDF5Status.check(
                H5Lget_name_by_idx(handle.id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, chdf5_p_default()),
                file: filePath, object: name, "reading a link name")
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            try HDF5Status.check(
                H5Lget_name_by_idx(handle.id, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buffer, buffer.count, chdf5_p_default()),
                file: filePath, object: name, "reading a link name")
            names.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
    }

    /// What kind of object `relative` (a path below this group, `/`-separated) is, or nil if absent.
    public func kind(of relative: String) -> HDF5ObjectKind? {
        var prefix = ""
        for part in relative.split(separator: "/") {
            prefix += (prefix.isEmpty ? "" : "/") + part
            guard H5Lexists(handle.id, prefix, chdf5_p_default()) > 0 else { _ = HDF5Status.takeErrorStack(); return nil }
        }
        let id = H5Oopen(handle.id, relative, chdf5_p_default())
        guard id >= 0 else { _ = HDF5Status.takeErrorStack(); return nil }
        defer { H5Oclose(id) }
        switch H5Iget_type(id) {
        case H5I_GROUP: return .group
        case H5I_DATASET: return .dataset
        default: return .other
        }
    }

    /// The child group at `relative`; a missing one is reported with what the group holds.
    public func group(_ relative: String) throws -> HDF5Group {
        guard kind(of: relative) == .group else { throw missing(relative) }
        return try HDF5Group(file: file, path: filePath, at: childPath(relative))
    }

    /// The dataset at `relative`; a missing one is reported with what the group holds.
    public func dataset(_ relative: String) throws -> HDF5Dataset {
        guard kind(of: relative) == .dataset else { throw missing(relative) }
        return try HDF5Dataset(file: file, path: filePath, at: childPath(relative))
    }

    /// Creates a child group.
    public func createGroup(_ relative: String) throws -> HDF5Group {
        let id = try HDF5Status.check(
            H5Gcreate2(handle.id, relative, chdf5_p_default(), chdf5_p_default(), chdf5_p_default()),
            file: filePath, object: childPath(relative), "creating group")
        H5Gclose(id)
        return try HDF5Group(file: file, path: filePath, at: childPath(relative))
    }

    private func missing(_ relative: String) -> ModelPressError {
        .missingEntry(file: filePath, path: childPath(relative), available: (try? children()) ?? [])
    }
}

/// Kinds of HDF5 objects ModelPress distinguishes.
public enum HDF5ObjectKind: Sendable {
    case group, dataset, other
}
