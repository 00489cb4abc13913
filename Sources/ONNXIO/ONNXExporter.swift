import Foundation
import ONNXProto
import Passes
import TensorCore

/// How `ONNXExporter` writes a graph.
public struct ONNXExportOptions: Sendable {
    /// The layout of image inputs in the written file.
    public enum InputLayout: String, Sendable, CaseIterable {
        /// Keep the inputs as the graph declares them (channels-last for Keras models).
        case nhwc
        /// Declare image inputs N×C×H×W and drop the leading NHWC→NCHW Transpose.
        case nchw
    }

    /// Opset of the default domain, 13…21.
    public var opset = ONNXVersions.defaultOpset
    /// Layout of image inputs.
    public var inputLayout = InputLayout.nhwc
    /// `producer_name`.
    public var producerName = "modelpress"
    /// `producer_version`.
    public var producerVersion = ModelPressVersion.string
    /// `modelpress.source_sha256`: overrides the graph's metadata entry of that name.
    public var sourceSHA256: String?
    /// `modelpress.compression` (JSON): overrides the graph's entry; `{}` when neither is set.
    public var compressionSummary: String?
    /// Run `exportPasses` (BatchNorm folding etc.) before lowering.
    public var optimize = true
    /// Write float initializers as COO `sparse_initializer`s where that is smaller (`--sparse-storage`).
    public var sparseStorage = false
    /// With `sparseStorage`: only these initializers may go sparse (`nil`: every float initializer).
    public var sparseCandidates: Set<String>?
    /// How a quantized graph is written: QDQ (default) or QOperator.
    public var quantizedForm = QuantizedForm.qdq
    /// Write Dense layers whose weights are 4- or 8-bit blocks along K as onnxruntime's
    /// `com.microsoft` MatMulNBits instead of DequantizeLinear → Gemm / MatMul.
    public var matMulNBits = false
    /// Keep initializers of 1 KiB or more in a `.data` file beside the model (`--external-data`).
    public var externalData = false
    /// The external data file's name, relative to the model (`write(_:to:options:)` sets
    /// `<file>.data`; `model.onnx.data` when unset).
    public var externalDataLocation: String?
    /// Initializer bytes above which external data is used even when not asked: protobuf
    /// cannot hold a message past 2 GiB, and the graph needs room beside the weights.
    public var inlineLimit = 2_000_000_000

    /// ONNX forms of a quantized graph.
    public enum QuantizedForm: String, Sendable, CaseIterable {
        /// QuantizeLinear / DequantizeLinear around float ops.
        case qdq
        /// QLinearConv for Conv and Dense, Q/DQ around the ops with no integer form.
        case qoperator
        /// Dynamic quantization: Dense / Conv as DynamicQuantizeLinear → MatMulInteger /
        /// ConvInteger on int8 weights (ONNXExporter+Dynamic).
        case dynamic
    }

    /// Default options (opset 13, inputs as declared).
    public init() {}
}

/// The written bytes, the graph they encode (after passes and layout change) and the pass reports.
public struct ONNXExportResult: Sendable {
    /// The serialized `ModelProto`.
    public var data: Data
    /// The external data file's contents, in segments (nil: every initializer is inside `data`).
    public var externalData: [Data]?
    /// Bytes on disk: the model and its external data.
    public var bytes: Int { data.count + (externalData?.reduce(0) { $0 + $1.count } ?? 0) }
    /// The IR that was lowered (what `ONNXImporter` gives back for `data`).
    public var graph: Graph
    /// What each pass did.
    public var reports: [PassReport]
    /// Initializers written as `sparse_initializer`s (with `sparseStorage`).
    public var sparseInitializers: [String] = []
}

/// Writes the graph IR as a standard ONNX model (default `ai.onnx` domain only).
public enum ONNXExporter {
    /// Metadata keys written into `metadata_props` (graph metadata keys with this prefix are kept).
    public static let metadataPrefix = "modelpress."

    /// Lowers `graph` to ONNX bytes; deterministic: equal graphs and options give equal bytes.
    public static func export(_ graph: Graph, options: ONNXExportOptions = ONNXExportOptions()) throws -> ONNXExportResult {
        guard ONNXVersions.supportedOpsets.contains(options.opset) else {
            throw ModelPressError.invalidArgument("opset \(options.opset) is not supported.\nHINT: choose an opset from \(ONNXVersions.supportedOpsets.lowerBound) to \(ONNXVersions.supportedOpsets.upperBound).")
        }
        var passes: [any GraphPass] = options.optimize ? exportPasses : []
        if options.inputLayout == .nchw {
            guard graph.quantization.isEmpty else {
                throw ModelPressError.invalidArgument("--input-layout nchw is not supported for quantized models yet.\nHINT: export the float model with --input-layout nchw, then quantize that file.")
            }
            passes.insert(ChannelsFirstInput(), at: 0)
        }
        let (prepared, reports) = try runPasses(passes, on: graph)
        var builder: ONNXGraphBuilder
        if !prepared.halfPrecision.isEmpty && !prepared.quantization.isEmpty && options.quantizedForm != .qdq {
            throw ModelPressError.invalidArgument("a model with both int8 and float16 values is written in the QDQ form only.\nHINT: leave out --format qoperator.")
        }
        let declared = declaredTypes(prepared)
        // Float16 weights hold float16 values from here on, so constants a lowering derives from them do too.
        var lowered = prepared
        for name in prepared.halfPrecision { lowered.initializers[name]?.roundToHalfPrecision() }
        if prepared.quantization.isEmpty {
            builder = ONNXGraphBuilder(graph: lowered, opset: options.opset)
            var origins: [String] = []
            for node in lowered.nodes {
                try builder.lower(node)
                origins += repeatElement(node.name, count: builder.nodes.count - origins.count)
            }
            if !prepared.halfPrecision.isEmpty { try builder.assignHalfPrecision(origins: origins, declared: declared) }
        } else if options.quantizedForm == .qoperator {
            var floatOnly = prepared
            for name in prepared.quantization.keys { floatOnly.initializers[name] = nil }
            builder = ONNXGraphBuilder(graph: floatOnly, opset: options.opset)
            try builder.lowerQOperator(original: prepared)
        } else if options.quantizedForm == .dynamic {
            var floatOnly = prepared
            for name in prepared.quantization.keys { floatOnly.initializers[name] = nil }
            builder = ONNXGraphBuilder(graph: floatOnly, opset: options.opset)
            try builder.lowerDynamic(original: prepared)
        } else {
            let layout = QDQLayout(lowered)
            builder = ONNXGraphBuilder(graph: layout.graph, opset: options.opset)
            let origins = try builder.lowerQDQ(layout, matMulNBits: options.matMulNBits)
            if !prepared.halfPrecision.isEmpty { try builder.assignHalfPrecision(origins: origins, declared: declared) }
        }

        var g = Onnx_GraphProto()
        g.name = prepared.name.isEmpty ? "model" : prepared.name
        g.node = builder.nodes
        g.initializer = builder.initializers
        if options.sparseStorage { (g.initializer, g.sparseInitializer) = try ONNXSparse.split(builder.initializers, candidates: options.sparseCandidates) }
        g.input = prepared.inputs.map { ONNXGraphBuilder.valueInfo($0.name, shape: $0.shape, elemType: declared[$0.name] ?? ONNXDataType.float) }
        g.output = prepared.outputs.map { ONNXGraphBuilder.valueInfo($0.name, shape: prepared.shapes[$0.name] ?? $0.shape, elemType: declared[$0.name] ?? ONNXDataType.float) }
        g.valueInfo = builder.valueInfo

        var model = Onnx_ModelProto()
        model.irVersion = ONNXVersions.irVersion(forOpset: options.opset)
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = Int64(options.opset)
        model.opsetImport = [opset]
        if builder.nodes.contains(where: { $0.domain == ONNXGraphBuilder.contribDomain }) {
            var contrib = Onnx_OperatorSetIdProto()
            contrib.domain = ONNXGraphBuilder.contribDomain
            contrib.version = 1
            model.opsetImport.append(contrib)
        }
        model.producerName = options.producerName
        model.producerVersion = options.producerVersion
        model.graph = g
        var props = metadata(prepared, options)
        if !builder.maskedRecurrences.isEmpty {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            props.append((MaskedRecurrenceRecord.metadataKey, String(decoding: try encoder.encode(builder.maskedRecurrences), as: UTF8.self)))
            props.sort { $0.0 < $1.0 }
        }
        model.metadataProps = props.map { key, value in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            return entry
        }
        let weightBytes = model.graph.initializer.reduce(0) { $0 + $1.rawData.count }
        var external: [Data]?
        if options.externalData || weightBytes > options.inlineLimit {
            external = ONNXExternalData.split(&model.graph, location: options.externalDataLocation ?? "model.onnx.data")
        }
        let data: Data
        do { data = try model.serializedData() } catch {
            throw ModelPressError.internalError("ONNX serialization failed: \(error)")
        }
        return ONNXExportResult(
            data: data, externalData: external, graph: prepared, reports: reports, sparseInitializers: g.sparseInitializer.map(\.values.name))
    }

    /// The element type the file declares for each graph input and output: float16 when the
    /// value is held in float16, else the IR's (float32 or integer ids).
    static func declaredTypes(_ graph: Graph) -> [String: Int32] {
        var types: [String: Int32] = [:]
        for info in graph.inputs + graph.outputs {
            types[info.name] = graph.halfPrecision.contains(info.name) ? ONNXDataType.float16 : ONNXDataType.code(of: info.elementType)
        }
        return types
    }

    /// Exports `graph` and writes the file atomically at `path`; with external data, its
    /// `<file>.data` beside it first (each file atomic on its own).
    @discardableResult
    public static func write(_ graph: Graph, to path: String, options: ONNXExportOptions = ONNXExportOptions()) throws -> ONNXExportResult {
        var options = options
        options.externalDataLocation = (path as NSString).lastPathComponent + ".data"
        let result = try export(graph, options: options)
        if let external = result.externalData, let location = options.externalDataLocation {
            try AtomicFile.write(segments: external, to: ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(location))
        }
        try AtomicFile.write(result.data, to: path)
        return result
    }

    /// `metadata_props`, sorted by key: the graph's `modelpress.*` entries (kept from a
    /// ModelPress ONNX file, so the source hash names the original model), the loaded file's
    /// `source_sha256` when there is none, then the options' overrides.
    static func metadata(_ graph: Graph, _ options: ONNXExportOptions) -> [(String, String)] {
        var props = graph.metadata.filter { $0.key.hasPrefix(metadataPrefix) && $0.key != MaskedRecurrenceRecord.metadataKey }
        props[metadataPrefix + "compression"] = options.compressionSummary ?? props[metadataPrefix + "compression"] ?? "{}"
        let sha = options.sourceSHA256 ?? props[metadataPrefix + "source_sha256"] ?? graph.metadata["source_sha256"]
        if let sha { props[metadataPrefix + "source_sha256"] = sha }
        return props.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
