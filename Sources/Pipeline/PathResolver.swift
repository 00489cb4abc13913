import Foundation
import TensorCore

/// Turns the paths written in pipeline and manifest files into absolute paths: relative to the
/// file's folder, or to the current folder for `--set` overrides.
enum PathResolver {
    /// Words that name a model of the run instead of a file (`teacher: original`).
    static let modelWords: Set<String> = ["original", "current"]

    /// The absolute path of `text` as written at `location`.
    static func absolute(_ text: String, at location: SourceLocation) -> String {
        if text.hasPrefix("/") { return URL(fileURLWithPath: text).standardizedFileURL.path }
        let base =
            location.file.hasPrefix(SetOverride.sourceName)
            ? FileManager.default.currentDirectoryPath
            : URL(fileURLWithPath: location.file).deletingLastPathComponent().path
        return URL(fileURLWithPath: base).appendingPathComponent(text).standardizedFileURL.path
    }

    /// The absolute path of an existing file, or an error at `location`.
    static func existingFile(_ text: String, at location: SourceLocation, what: String) throws -> String {
        let path = absolute(text, at: location)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw YAMLError.at(location, "\(what) file \(text) does not exist (looked for \(path)); paths are relative to the pipeline file's folder.")
        }
        return path
    }

    /// A stage's file option: `original`/`current`, a student spec such as `dense:64,32`,
    /// or an existing file.
    static func stageReference(_ text: String, key: String, at location: SourceLocation, title: String) throws -> String {
        if key == "teacher", modelWords.contains(text) { return text }
        if key == "reference", text == "original" { return text }
        if key == "student", text.contains(":"), !text.contains("/") { return text }
        return try existingFile(text, at: location, what: "'\(key)' of \(title)")
    }

    /// A `NAME=FILE,…` list (`shifted_data`), each file resolved like a path key.
    static func namedFiles(_ text: String, key: String, at location: SourceLocation, title: String) throws -> String {
        let pairs = Pipeline.namedFiles(text)
        guard pairs.count == text.split(separator: ",").count else {
            throw YAMLError.at(location, "'\(key)' of \(title): '\(text)' is not a list NAME=FILE,….")
        }
        return try pairs.map { "\($0.name)=\(try existingFile($0.file, at: location, what: "'\(key)' of \(title)"))" }.joined(separator: ",")
    }

    /// An export `path`: a relative file name inside the run folder.
    static func checkArtifactName(_ text: String, at location: SourceLocation) throws {
        let parts = text.split(separator: "/")
        guard !text.hasPrefix("/"), !parts.contains(".."), !parts.isEmpty, text.hasSuffix(".onnx") else {
            throw YAMLError.at(location, "export path '\(text)' must be a relative .onnx file name inside the run folder (no '..', not absolute).")
        }
    }
}
