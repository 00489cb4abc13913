import Foundation
import ONNXProto
import TensorCore

/// ONNX external data: initializer bytes kept in a file beside the model
/// (`data_location: EXTERNAL`, `external_data` = location / offset / length), how models past
/// protobuf's 2 GB limit are stored. Reading inlines them before anything else looks at the
/// graph; writing moves every initializer of at least `threshold` bytes into one file.
enum ONNXExternalData {
    /// Initializers smaller than this stay inside the model (onnx's `size_threshold` default).
    static let threshold = 1024
    /// Each tensor starts at a multiple of this offset, so runtimes can memory-map it.
    static let alignment = 4096

    // MARK: Reading

    /// Replaces every external tensor of `graph` (initializers, sparse initializers, Constant
    /// attributes) by its bytes, read from files in `folder`. `file` names the model in errors.
    static func inline(_ graph: inout Onnx_GraphProto, folder: String, file: String) throws {
        // Every tensor's bytes, and for a moment the largest twice (its bytes and its tensor).
        let sizes = graph.initializer.filter { $0.dataLocation == .external }.map { Reader.byteCount(of: $0) ?? 0 }
        try MemoryBudget.checkRead(sizes.reduce(0, +), transient: sizes.max() ?? 0, file: file)
        var reader = Reader(folder: folder, file: file)
        for i in graph.initializer.indices { try reader.inline(&graph.initializer[i]) }
        for i in graph.sparseInitializer.indices {
            try reader.inline(&graph.sparseInitializer[i].values)
            try reader.inline(&graph.sparseInitializer[i].indices)
        }
        for n in graph.node.indices {
            for a in graph.node[n].attribute.indices {
                if graph.node[n].attribute[a].hasT { try reader.inline(&graph.node[n].attribute[a].t) }
                for t in graph.node[n].attribute[a].tensors.indices { try reader.inline(&graph.node[n].attribute[a].tensors[t]) }
            }
        }
    }

    /// Reads external tensors with every check a hostile file calls for.
    private struct Reader {
        let folder: String
        let file: String
        private var handles: [String: (handle: FileHandle, size: Int)] = [:]
        private let resolvedFolder: String

        init(folder: String, file: String) {
            self.folder = folder
            self.file = file
            resolvedFolder = URL(fileURLWithPath: folder).resolvingSymlinksInPath().path
        }

        /// Loads `tensor`'s bytes into `raw_data` when they are external.
        mutating func inline(_ tensor: inout Onnx_TensorProto) throws {
            guard tensor.dataLocation == .external else { return }
            let file = self.file, location = "initializer '\(tensor.name)'"
            func fail(_ message: String, _ hint: String = "export the model again, keeping its .data file beside it") -> ModelPressError {
                .invalidModel(file: file, location: location, message: message, hint: hint)
            }
            var entries: [String: String] = [:]
            for entry in tensor.externalData { entries[entry.key] = entry.value }
            let target = entries["location"] ?? ""
            let parts = target.split(separator: "/", omittingEmptySubsequences: false)
            if target.isEmpty || target.hasPrefix("/") || target.contains("\\") || parts.contains("..") {
                throw fail(
                    "names external data '\(target)' outside the model's folder; ModelPress never reads such paths",
                    "the model is malicious or damaged; external data must be a file beside the model")
            }
            guard let expected = Self.byteCount(of: tensor) else {
                throw fail("keeps data of element type \(tensor.dataType) in an external file, which has no fixed size per element")
            }
            let (handle, size) = try open(target, fail)
            guard let offset = Int(entries["offset"] ?? "0"), offset >= 0, offset <= size else {
                throw fail("reads external data at offset '\(entries["offset"] ?? "")' of '\(target)', a file of \(size) bytes")
            }
            let length =
                try entries["length"].map { text -> Int in
                    guard let n = Int(text), n >= 0 else { throw fail("gives external data length '\(text)'") }
                    return n
                } ?? (size - offset)
            guard length == expected else {
                throw fail("has \(expected) bytes by its shape and type, and its external data is \(length) bytes long")
            }
            guard length <= size - offset else {
                throw fail("reads bytes \(offset)…\(offset + length) of '\(target)', a file of \(size) bytes (truncated?)")
            }
            var data = Data(count: length)
            let read = data.withUnsafeMutableBytes { Self.read(handle.fileDescriptor, into: $0, at: offset) }
            guard read == length else { throw fail("got \(read) of \(length) bytes from '\(target)' (\(String(cString: strerror(errno))))") }
            tensor.rawData = data
            tensor.dataLocation = .default
            tensor.externalData = []
        }

        /// The open file `target` (relative to the model's folder, symlinks resolved and kept inside it) and its size.
        private mutating func open(_ target: String, _ fail: (String, String) -> ModelPressError) throws -> (FileHandle, Int) {
            if let known = handles[target] { return known }
            let path = URL(fileURLWithPath: folder).appendingPathComponent(target).path
            let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            guard resolved.hasPrefix(resolvedFolder + "/") else {
                throw fail(
                    "names external data '\(target)', which leads outside the model's folder (a symbolic link?); ModelPress never reads such paths",
                    "the model is malicious or damaged; external data must be a file beside the model")
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), !isDirectory.boolValue,
                let handle = FileHandle(forReadingAtPath: resolved),
                let size = (try? FileManager.default.attributesOfItem(atPath: resolved)[.size] as? Int) ?? nil
            else {
                throw fail("keeps its data in '\(target)', which is not a readable file beside the model", "copy the model's .data file next to it")
            }
            handles[target] = (handle, size)
            return (handle, size)
        }

        /// Fills `buffer` from `descriptor` at `offset` in chunks of at most 1 GiB (one `pread`
        /// moves at most 2 GiB − 4 KiB); returns the bytes read (fewer at the end of the file or on an error).
        static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
            var done = 0
            while done < buffer.count {
                let n = pread(descriptor, buffer.baseAddress! + done, min(buffer.count - done, 1 << 30), off_t(offset + done))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                done += n
            }
            return done
        }

        /// Bytes of `tensor`'s data by its shape and element type (nil: variable-size elements).
        static func byteCount(of tensor: Onnx_TensorProto) -> Int? {
            let sizes: [Int32: Int] = [
                ONNXDataType.float: 4, ONNXDataType.uint8: 1, ONNXDataType.int8: 1, ONNXDataType.uint16: 2, ONNXDataType.int16: 2,
                ONNXDataType.int32: 4, ONNXDataType.int64: 8, ONNXDataType.bool: 1, ONNXDataType.float16: 2, ONNXDataType.double: 8,
                ONNXDataType.uint32: 4, ONNXDataType.uint64: 8, ONNXDataType.bfloat16: 2,
            ]
            guard tensor.dims.allSatisfy({ $0 >= 0 && $0 <= 1 << 40 }) else { return nil }
            var count = 1
            for d in tensor.dims {
                let (product, overflow) = count.multipliedReportingOverflow(by: Int(d))
                if overflow || product > 1 << 40 { return nil }
                count = product
            }
            if tensor.dataType == ONNXDataType.int4 || tensor.dataType == ONNXDataType.uint4 { return (count + 1) / 2 }
            return sizes[tensor.dataType].map { $0 * count }
        }
    }

    // MARK: Writing

    /// Moves the bytes of every initializer of at least `threshold` bytes out of `graph`, each
    /// at a multiple of `alignment`, recorded as external data in `location`. Returns the
    /// file's contents as segments (the tensors' own bytes and the padding between them), so
    /// no second copy of the weights is made.
    static func split(_ graph: inout Onnx_GraphProto, location: String) -> [Data] {
        var segments: [Data] = [], size = 0
        for i in graph.initializer.indices where graph.initializer[i].rawData.count >= threshold {
            let padding = (alignment - size % alignment) % alignment
            if padding > 0 { segments.append(Data(count: padding)) }
            let bytes = graph.initializer[i].rawData
            graph.initializer[i].externalData = [
                entry("location", location), entry("offset", String(size + padding)), entry("length", String(bytes.count)),
            ]
            graph.initializer[i].dataLocation = .external
            graph.initializer[i].rawData = Data()
            segments.append(bytes)
            size += padding + bytes.count
        }
        return segments
    }

    private static func entry(_ key: String, _ value: String) -> Onnx_StringStringEntryProto {
        var e = Onnx_StringStringEntryProto()
        e.key = key
        e.value = value
        return e
    }
}
