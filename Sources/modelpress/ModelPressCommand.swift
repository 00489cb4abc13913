import ArgumentParser
import TensorCore

/// The `modelpress` command: compress trained networks and export them for edge devices.
struct ModelPressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modelpress",
        abstract: "Compress trained neural networks (prune, quantize, distill), verify them, and export ONNX.",
        discussion: """
            MODEL is a Keras .h5 / .keras / .weights.h5 (+ architecture JSON) or an ONNX file, \
            recognised by content. Exit codes: 0 success, 1 a verification gate failed, \
            2 bad input or usage, 3 internal error.
            """,
        version: ModelPressVersion.string,
        subcommands: [
            InspectCommand.self,
            EvalCommand.self,
            PredictCommand.self,
            ExportCommand.self,
            BenchCommand.self,
            TrainCommand.self,
            DistillCommand.self,
            QuantizeCommand.self,
            PruneCommand.self,
            SensitivityCommand.self,
            VerifyCommand.self,
            RunCommand.self,
            BatchCommand.self,
            ProbeHDF5Command.self,
        ]
    )
}
