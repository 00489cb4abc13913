import Foundation
import Testing
import _TestSupport

/// `bench` reports the OpenBLAS kernel family in use, and OpenBLAS honours
/// `OPENBLAS_CORETYPE` (this machine's environment pins `Haswell`; docs/benchmarks.md).
@Suite("OpenBLAS kernel reporting")
struct BLASKernelSelectionTests {
    struct Bench: Decodable { let blas_core: String }

    @Test("bench --json names the kernel family OPENBLAS_CORETYPE selects", arguments: ["Haswell", "Prescott"])
    func reported(_ core: String) throws {
        let r = try runModelPress(
            ["bench", "fixtures/models/keras3/mlp.h5", "--seconds", "0.05", "--json"],
            environment: ["OPENBLAS_CORETYPE": core])
        #expect(r.exitCode == 0, "\(r.stderr)")
        #expect(try JSONDecoder().decode(Bench.self, from: Data(r.stdout.utf8)).blas_core == core)
    }
}
