import Foundation
import ONNXProto

/// Building and reading `AttributeProto`s.
enum ONNXAttribute {
    /// An INT attribute.
    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(value)
        return a
    }

    /// An INTS attribute.
    static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = values.map(Int64.init)
        return a
    }

    /// A FLOAT attribute.
    static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = value
        return a
    }

    /// A STRINGS attribute (UTF-8).
    static func strings(_ name: String, _ values: [String]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .strings
        a.strings = values.map { Data($0.utf8) }
        return a
    }

    /// A FLOATS attribute.
    static func floats(_ name: String, _ values: [Float]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .floats
        a.floats = values
        return a
    }

    /// A STRING attribute (UTF-8).
    static func string(_ name: String, _ value: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .string
        a.s = Data(value.utf8)
        return a
    }
}

extension Onnx_NodeProto {
    /// The attribute called `name`, if present.
    func attribute(_ name: String) -> Onnx_AttributeProto? {
        attribute.first { $0.name == name }
    }

    /// An INT attribute, or `default`.
    func int(_ name: String, default value: Int) -> Int {
        attribute(name).map { Int(clamping: $0.i) } ?? value
    }

    /// An INTS attribute, or nil.
    func ints(_ name: String) -> [Int]? {
        attribute(name).map { $0.ints.map { Int(clamping: $0) } }
    }

    /// A FLOAT attribute, or `default`.
    func float(_ name: String, default value: Float) -> Float {
        attribute(name)?.f ?? value
    }

    /// A STRING attribute, or `default`.
    func string(_ name: String, default value: String) -> String {
        attribute(name).map { String(decoding: $0.s, as: UTF8.self) } ?? value
    }
}
