import CHDF5
import Foundation
import TensorCore

/// What the contained child of `HDF5Guard` does: opens a file and makes, on every object,
/// the libhdf5 calls ModelPress's readers make — group listings, link and object lookups,
/// every attribute read as strings (fixed and variable length) or numbers, every numeric
/// dataset read in row blocks. Errors from libhdf5 are skipped (the parent reports them
/// with context); only a crash, hang or memory blow-up matters here.
public enum HDF5Probe {
    /// Objects visited at most (a corrupted file can link groups into cycles).
    static let maxObjects = 100_000
    /// Group nesting visited at most.
    static let maxDepth = 64
    /// Elements read per dataset block (16 MB of float32).
    static let blockElements = 4 << 20

    /// What the walk saw.
    public enum Verdict {
        /// libhdf5 read the file (possibly with errors, which the parent reports).
        case fine
        /// An allocation inside libhdf5 failed at the probe's data limit (`HDF5Guard.memoryLimit`;
        /// block reads keep an honest walk under ~100 MB). A corrupted length in a global heap
        /// or a variable-length string does this; outside the probe it would take gigabytes.
        case runawayAllocation
    }

    /// Walks the file at `path` (in the probe child: containment must already be off).
    public static func walk(_ path: String) -> Verdict {
        var walker = Walker()
        if let file = walker.attempt({ try HDF5File(readingFrom: path) }) { walker.visit(file.root, depth: 0) }
        return walker.allocationFailed ? .runawayAllocation : .fine
    }

    /// The walk's state: the object budget and whether libhdf5 ran out of memory.
    private struct Walker {
        var budget = HDF5Probe.maxObjects
        var allocationFailed = false

        /// `body`'s value, or nil when it throws; notes libhdf5 allocation failures.
        mutating func attempt<T>(_ body: () throws -> T) -> T? {
            do { return try body() } catch let ModelPressError.hdf5(_, _, _, stack) {
                if stack.contains(where: Self.isAllocationFailure) { allocationFailed = true }
                return nil
            } catch { return nil }
        }

        /// libhdf5's messages for H5E_CANTALLOC / H5E_NOSPACE ("memory allocation failed for
        /// chunk", "unable to allocate space for …").
        static func isAllocationFailure(_ message: String) -> Bool {
            let text = message.lowercased()
            return text.contains("allocation failed") || text.contains("unable to allocate") || text.contains("can't allocate")
        }

        mutating func visit(_ group: HDF5Group, depth: Int) {
            readAttributes(of: group)
            guard depth < maxDepth, let children = attempt({ try group.children() }) else { return }
            for child in children {
                budget -= 1
                if budget <= 0 { return }
                switch group.kind(of: child) {
                case .group?:
                    if let g = attempt({ try group.group(child) }) { visit(g, depth: depth + 1) }
                case .dataset?:
                    if let d = attempt({ try group.dataset(child) }) {
                        readAttributes(of: d)
                        readRows(of: d)
                    }
                default:
                    continue
                }
            }
        }

        mutating func readAttributes(of object: HDF5Object) {
            for key in object.attributeNames() where attempt({ try object.stringsAttribute(key) }) == nil {
                _ = attempt { try object.doublesAttribute(key) }
            }
        }

        mutating func readRows(of dataset: HDF5Dataset) {
            guard dataset.isNumeric else { return }
            guard let rows = dataset.shape.first else {
                _ = attempt { try dataset.readFloats() }
                return
            }
            let rowSize = max(1, Checked.product(dataset.shape.dropFirst()) ?? 1)
            let step = max(1, blockElements / rowSize)
            var start = 0
            while start < rows {
                let end = min(rows, start + step)
                if attempt({ try dataset.readFloats(rows: start..<end) }) == nil { return }
                start = end
            }
            if dataset.isInteger { _ = attempt { try dataset.readInt64(rows: 0..<min(rows, step)) } }
        }
    }
}

extension HDF5Object {
    /// Names of this object's attributes (at most 10,000), in name order.
    func attributeNames() -> [String] {
        var names: [String] = []
        var index: hsize_t = 0
        while names.count < 10_000 {
            let length = H5Aget_name_by_idx(handle.id, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, chdf5_p_default())
            guard length >= 0, length < 65_536 else { _ = HDF5Status.takeErrorStack(); break }
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            guard H5Aget_name_by_idx(handle.id, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count, chdf5_p_default()) >= 0 else {
                _ = HDF5Status.takeErrorStack()
                break
            }
            names.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            index += 1
        }
        return names
    }
}
