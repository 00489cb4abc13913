import Foundation
import TensorCore
import ZIPFoundation

/// Reads entries of a `.keras` zip archive within stated limits: no entry name may leave
/// the archive (absolute paths, `..` components), and no entry may inflate beyond
/// `maxUncompressedBytes` or beyond `maxRatio` times the archive's own size (a zip bomb),
/// whether its header declares so or its data actually does. Errors name the archive.
public struct KerasArchiveReader {
    /// Default largest uncompressed entry: 4 GiB.
    public static let defaultMaxUncompressed = 4 << 30
    /// Default largest inflation of one entry relative to the archive (model weights compress
    /// by 1.1–10×; a bomb by ~1000×), plus `ratioSlack` for small entries.
    public static let maxRatio = 100
    static let ratioSlack = 1 << 20
    /// Largest JSON entry (config.json, metadata.json) held in memory: 64 MB.
    public static let maxJSONBytes = 64 << 20
    /// Largest number of entries.
    public static let maxEntries = 10_000

    let path: String
    let archive: Archive
    let archiveSize: Int

    /// Opens `path` and checks every entry's name and declared sizes.
    public init(_ path: String) throws {
        self.path = path
        do { archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
            throw ModelPressError.unrecognizedFormat(path: path, detail: "is not a readable zip archive (\(error))")
        }
        archiveSize = HDF5Limits.fileSize(path)
        var count = 0
        for entry in archive {
            count += 1
            guard count <= Self.maxEntries else {
                throw refuse("archive", "holds more than \(Self.maxEntries) entries", hint: "this is not a Keras archive")
            }
            let parts = entry.path.split(separator: "/", omittingEmptySubsequences: false)
            guard !entry.path.hasPrefix("/"), !entry.path.contains("\\"), !parts.contains("..") else {
                throw refuse(
                    entry.path, "names a path outside the archive (absolute or with '..')",
                    hint: "the archive is malicious or damaged; ModelPress never extracts such entries")
            }
        }
    }

    /// The largest size an entry may inflate to: `MODELPRESS_MAX_UNCOMPRESSED_MB` when set
    /// (the CLI's `--max-uncompressed-mb` sets it; it also lifts the ratio limit).
    var limit: Int {
        if let text = ProcessInfo.processInfo.environment["MODELPRESS_MAX_UNCOMPRESSED_MB"], let mb = Int(text), mb > 0 { return mb << 20 }
        let ratioLimit = (Checked.multiply(archiveSize, Self.maxRatio) ?? Int.max / 2) + Self.ratioSlack
        return min(Self.defaultMaxUncompressed, ratioLimit)
    }

    /// Names of the entries.
    var entryNames: [String] { archive.map(\.path) }

    /// Entry `name` in memory (JSON entries: at most `maxJSONBytes`).
    public func data(_ name: String) throws -> Data {
        var data = Data()
        try extract(name, limit: min(limit, Self.maxJSONBytes)) { data.append($0) }
        return data
    }

    /// Entry `name` streamed into the file at `destination`.
    public func write(_ name: String, to destination: String) throws {
        guard FileManager.default.createFile(atPath: destination, contents: nil),
            let handle = FileHandle(forWritingAtPath: destination)
        else {
            throw ModelPressError.internalError("cannot create the temporary file \(destination)")
        }
        defer { try? handle.close() }
        try extract(name, limit: limit) { try handle.write(contentsOf: $0) }
    }

    private func extract(_ name: String, limit: Int, _ consume: (Data) throws -> Void) throws {
        guard let entry = archive[name] else {
            throw ModelPressError.missingEntry(file: path, path: name, available: entryNames)
        }
        let declared = Int(clamping: entry.uncompressedSize)
        guard declared <= limit else { throw tooLarge(name, "declares \(declared) bytes uncompressed", limit) }
        var produced = 0
        var overflow = false
        do {
            _ = try archive.extract(entry, skipCRC32: false) { chunk in
                produced += chunk.count
                if produced > limit || produced > declared {
                    overflow = true
                    throw CocoaError(.fileReadTooLarge)
                }
                try consume(chunk)
            }
        } catch {
            if overflow { throw tooLarge(name, "inflates past \(min(limit, declared)) bytes (its header declares \(declared))", limit) }
            throw refuse(name, "cannot be extracted (\(error))", hint: "the archive may be damaged; re-save the model")
        }
    }

    private func tooLarge(_ name: String, _ what: String, _ limit: Int) -> ModelPressError {
        refuse(
            name, "\(what); the limit for this \(archiveSize)-byte archive is \(limit) bytes (a zip bomb?)",
            hint: "if the archive is genuine, raise the limit with --max-uncompressed-mb (or MODELPRESS_MAX_UNCOMPRESSED_MB)")
    }

    private func refuse(_ location: String, _ message: String, hint: String) -> ModelPressError {
        .invalidModel(file: path, location: "zip entry '\(location)'", message: message, hint: hint)
    }
}
