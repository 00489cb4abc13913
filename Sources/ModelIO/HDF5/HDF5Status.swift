import CHDF5
import TensorCore

/// The one place where HDF5 status codes become Swift errors. Opens the library once,
/// silences HDF5's own stderr printing, and turns its error stack into `ModelPressError.hdf5`.
enum HDF5Status {
    /// Library set-up, done once per process before the first call.
    static let ready: Bool = {
        _ = H5open()
        _ = chdf5_silence_errors()
        return true
    }()

    /// Throws when `status` is negative, with HDF5's error stack as the cause.
    @discardableResult
    static func check<T: BinaryInteger>(_ status: T, file: String, object: String, _ operation: String) throws -> T {
        if status < 0 {
            throw ModelPressError.hdf5(file: file, object: object, operation: operation, stack: takeErrorStack())
        }
        return status
    }

    /// The current thread's HDF5 error messages (outermost first), then clears the stack.
    static func takeErrorStack() -> [String] {
        final class Collector { var messages: [String] = [] }
        let collector = Collector()
        let box = Unmanaged.passRetained(collector)
        defer { box.release() }
        _ = H5Ewalk2(
            chdf5_e_default(), H5E_WALK_DOWNWARD,
            { _, error, data in
                guard let error, let data, let desc = error.pointee.desc else { return 0 }
                let message = String(cString: desc)
                if !message.isEmpty {
                    Unmanaged<Collector>.fromOpaque(data).takeUnretainedValue().messages.append(message)
                }
                return 0
            }, box.toOpaque())
        _ = H5Eclear2(chdf5_e_default())
        var unique: [String] = []
        for m in collector.messages where !unique.contains(m) { unique.append(m) }
        return unique
    }
}

/// An HDF5 identifier owned by exactly one Swift object and closed in its `deinit`.
final class HDF5Handle {
    let id: hid_t
    private let close: (hid_t) -> herr_t
    /// For a file handle: the size in bytes of the file libhdf5 reads (sizes declared inside it
    /// are checked against this; the file itself may already be unlinked).
    var fileSize = 0

    init(_ id: hid_t, close: @escaping (hid_t) -> herr_t) {
        self.id = id
        self.close = close
    }

    deinit { _ = close(id) }
}
