import CHDF5
import Foundation
import TensorCore

/// What the contained child of `HDF5Guard` does: opens a file and makes, on every object,
/// the libhdf5 calls ModelPress's readers make — group listings, link and object lookups,
/// every attribute read as strings (fixed and variable length) or numbers, every numeric
/// dataset read in row blocks — and, when asked, writes everything it read into a fresh file
/// (`HDF5Containment.copy`). Probing skips libhdf5's errors (the parent reports them with
/// context); copying stops at the first group or dataset it cannot read.
public enum HDF5Probe {
    /// Objects visited at most (a corrupted file can link groups into cycles).
    static let maxObjects = 100_000
    /// Group nesting visited at most.
    static let maxDepth = 64
    /// Elements read per dataset block (16 MB of float32).
    static let blockElements = 4 << 20

    /// What the walk saw.
    public enum Verdict: Equatable {
        /// libhdf5 read the file (when probing, possibly with errors, which the parent reports).
        case fine
        /// An allocation inside libhdf5 failed at the probe's data limit (`HDF5Guard.memoryLimit`;
        /// block reads keep an honest walk under ~100 MB). A corrupted length in a global heap
        /// or a variable-length string does this; outside the probe it would take gigabytes.
        case runawayAllocation
        /// Copying: a group or dataset could not be read (the message says which and why).
        case damaged(String)
        /// Copying: the copy could not be written (the message says why).
        case cannotWrite(String)
    }

    /// Walks the file at `path` (in the probe child: containment must already be off); with
    /// `copy`, writes what it reads into a new HDF5 file at that path.
    public static func walk(_ path: String, copyTo copy: String? = nil) -> Verdict {
        var walker = Walker(copying: copy != nil)
        guard let file = walker.attempt({ try HDF5File(readingFrom: path) }) else {
            return walker.verdict ?? .damaged("the file cannot be opened")
        }
        if let copy {
            let destination: HDF5File
            do { destination = try HDF5File(creating: copy) } catch { return .cannotWrite(String(describing: error)) }
            walker.visit(file.root, into: destination.root, depth: 0)
        } else {
            walker.visit(file.root, into: nil, depth: 0)
        }
        return walker.verdict ?? .fine
    }

    /// The walk's state: the object budget, and the first thing that went wrong.
    private struct Walker {
        let copying: Bool
        var budget = HDF5Probe.maxObjects
        var verdict: Verdict?

        init(copying: Bool) { self.copying = copying }

        /// Whether the walk goes on (copying stops at the first failure).
        var going: Bool { verdict == nil || (!copying && verdict != .runawayAllocation) }

        /// `body`'s value, or nil when it throws; notes libhdf5 allocation failures, and when
        /// `essential` (copying a group or dataset) the first failure.
        mutating func attempt<T>(essential: Bool = true, _ body: () throws -> T) -> T? {
            do { return try body() } catch let error as ModelPressError {
                if case .hdf5(_, _, _, let stack) = error, stack.contains(where: Self.isAllocationFailure) {
                    verdict = .runawayAllocation
                } else if copying && essential && verdict == nil {
                    verdict = .damaged(error.description)
                }
                return nil
            } catch {
                if copying && essential && verdict == nil { verdict = .damaged(String(describing: error)) }
                return nil
            }
        }

        /// Runs a write into the copy; a failure there ends the walk as `cannotWrite`.
        mutating func write<T>(_ body: () throws -> T) -> T? {
            do { return try body() } catch {
                if verdict == nil { verdict = .cannotWrite(String(describing: error)) }
                return nil
            }
        }

        /// libhdf5's messages for H5E_CANTALLOC / H5E_NOSPACE ("memory allocation failed for
        /// chunk", "unable to allocate space for …").
        static func isAllocationFailure(_ message: String) -> Bool {
            let text = message.lowercased()
            return text.contains("allocation failed") || text.contains("unable to allocate") || text.contains("can't allocate")
        }

        mutating func visit(_ group: HDF5Group, into copy: HDF5Group?, depth: Int) {
            copyAttributes(of: group, into: copy)
            guard depth < maxDepth, going, let children = attempt({ try group.children() }) else { return }
            for child in children where going {
                budget -= 1
                if budget <= 0 { return }
                switch group.kind(of: child) {
                case .group?:
                    guard let g = attempt({ try group.group(child) }) else { continue }
                    let target = copy.flatMap { c in write { try c.createGroup(child) } }
                    visit(g, into: target, depth: depth + 1)
                case .dataset?:
                    guard let d = attempt({ try group.dataset(child) }) else { continue }
                    let target = d.isNumeric ? copy.flatMap { c in write { try HDF5DatasetWriter(in: c, child, shape: d.shape, integer: d.isInteger) } } : nil
                    copyRows(of: d, into: target)
                    if let target { copyAttributes(of: d, into: target.attributes) }
                default:
                    continue
                }
            }
        }

        /// Reads every attribute (as strings, else numbers) and writes what it read into `copy`.
        /// Attributes of other types are skipped: no reader of ModelPress reads them.
        mutating func copyAttributes(of object: HDF5Object, into copy: HDF5Object?) {
            for key in object.attributeNames() where going {
                if let strings = attempt(essential: false, { try object.stringsAttribute(key) }) {
                    if let copy { _ = write { try copy.setAttribute(key, strings: strings) } }
                } else if let numbers = attempt(essential: false, { try object.doublesAttribute(key) }) {
                    if let copy { _ = write { try copy.setAttribute(key, doubles: numbers) } }
                }
            }
        }

        /// Reads a numeric dataset in row blocks, writing each block into `copy`.
        mutating func copyRows(of dataset: HDF5Dataset, into copy: HDF5DatasetWriter?) {
            guard dataset.isNumeric else { return }
            guard let rows = dataset.shape.first else {
                if dataset.isInteger {
                    if let v = attempt({ try dataset.readInt64(rows: 0..<1) }), let copy { _ = write { try copy.write(rows: 0..<1, v) } }
                } else if let v = attempt({ try dataset.readFloats() }), let copy {
                    _ = write { try copy.write(rows: 0..<1, v) }
                }
                return
            }
            let rowSize = max(1, Checked.product(dataset.shape.dropFirst()) ?? 1)
            let step = max(1, blockElements / rowSize)
            var start = 0
            while start < rows && going {
                let block = start..<min(rows, start + step)
                if dataset.isInteger && copy != nil {
                    guard let v = attempt({ try dataset.readInt64(rows: block) }) else { return }
                    _ = write { try copy?.write(rows: block, v) }
                } else {
                    guard let v = attempt({ try dataset.readFloats(rows: block) }) else { return }
                    _ = write { try copy?.write(rows: block, v) }
                }
                start = block.upperBound
            }
            if dataset.isInteger && copy == nil { _ = attempt(essential: false, { try dataset.readInt64(rows: 0..<min(rows, step)) }) }
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
