import ArgumentParser
import Foundation
import ModelIO
import TensorCore

/// Process entry: parses the command line, runs the command, and maps every failure onto
/// the exit-code contract (1 gate failed, 2 bad input or usage, 3 internal error).
@main
enum Entry {
    static func main() {
        ParentWatch.start()
        // libhdf5 runs on untrusted files in a contained child of this binary first.
        HDF5Guard.probeExecutable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        do {
            var command = try ModelPressCommand.parseAsRoot()
            try command.run()
        } catch let error as ModelPressError {
            FileHandle.standardError.writeBestEffort(Data("error: \(error)\n".utf8))
            terminate(error.exitCode)
        } catch let failure as GateFailure {
            FileHandle.standardError.writeBestEffort(Data("\(failure.message)\n".utf8))
            terminate(1)
        } catch {
            let code = ModelPressCommand.exitCode(for: error)
            if code == .success {
                ModelPressCommand.exit(withError: error)
            }
            let message = ModelPressCommand.fullMessage(for: error)
            FileHandle.standardError.writeBestEffort(Data("\(message)\n".utf8))
            // Usage errors (ArgumentParser's 64) and validation failures are bad input: 2.
            terminate(code == .validationFailure || code.rawValue == 64 ? 2 : (error is CocoaError ? 2 : 3))
        }
    }
}

/// Ends the process after a failure without running exit handlers: libhdf5's teardown
/// crashes on a file whose flush failed (a full disk), and an error must never become a crash.
private func terminate(_ code: Int32) -> Never {
    fflush(nil)
    _exit(code)
}

/// A verification gate that did not hold: the command exits 1 after writing its reports.
struct GateFailure: Error {
    let message: String
}
