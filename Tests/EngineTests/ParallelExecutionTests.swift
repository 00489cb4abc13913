import Engine
import ModelIO
import ModelLoading
import TensorCore
import Testing
import _TestSupport

/// Batch-parallel execution: deterministic for a given batch size and thread count, and equal
/// to serial execution up to float rounding (OpenBLAS picks different edge micro-kernels for
/// different GEMM widths, so a sample's last bits can depend on its batch).
@Suite("batch-parallel execution")
struct ParallelExecutionTests {
    @Test(
        "same configuration ⇒ same bits; serial vs parallel vs per-sample within 1e-6",
        arguments: ["keras3/cnn.h5", "keras3/functional.h5", "keras3/mobilenetv2_96.h5"])
    func agreement(_ model: String) throws {
        let graph = try ModelLoader.load(Fixtures.path("models/" + model))
        let executor = Executor(graph: graph)
        var generator = SeededGenerator(seed: 7)
        let x = randomTensor([9] + graph.inputs[0].shape.dropFirst(), in: 0...1, &generator)
        let serial = try executor.run(x, threads: 1)
        let parallel = try executor.run(x, threads: 2)
        #expect(try executor.run(x, threads: 2).storage == parallel.storage, "a repeated run must give the same bits")
        let size = x.count / 9
        let perSample = try (0..<9).flatMap { i -> [Float] in
            let one = try Tensor(shape: [1] + x.shape.dropFirst(), storage: Array(x.storage[(i * size)..<((i + 1) * size)]))
            return try executor.run(one, threads: 1).storage
        }
        #expect(parallel.shape == serial.shape)
        #expect(maxRelativeDifference(parallel.storage, serial.storage) < 1e-6)
        #expect(maxRelativeDifference(perSample, serial.storage) < 1e-6)
    }
}
