import Evaluation
import ModelIO
import ModelLoading
import TensorCore
import Testing
import Training
import _TestSupport

@testable import Robustness

private func run(
    _ perturbations: [Perturbation], reference: String = "models/keras3/mlp.h5", candidate: String = "models/keras3/cnn.h5",
    data: String = "data/digits_test.h5", batchSize: Int = 64, named: Bool = true,
    sink: RobustnessRun.PerturbedSink? = nil
) throws -> RobustnessSummary {
    let source = try DatasetFile(path: Fixtures.path(data), requireLabels: false)
    let plan = RobustnessPlan(
        perturbations: named ? perturbations : [], defaults: named ? [] : perturbations, seed: 7, bootstrapResamples: 200)
    return try RobustnessRun(
        reference: VerifiedModel(try ModelLoader.load(Fixtures.path(reference)), path: reference),
        candidate: VerifiedModel(try ModelLoader.load(Fixtures.path(candidate)), path: candidate),
        data: source, batchSize: batchSize, plan: plan
    ).measure(sink: sink)
}

@Test func epsilonZeroReproducesCleanAccuracy() throws {
    let summary = try run([.fgsm(epsilon: 0), .gaussian(sigma: 0, absolute: false), .pgd(epsilon: 0, steps: 3, stepSize: nil)])
    for c in summary.conditions {
        #expect(c.referenceAccuracy == summary.cleanReferenceAccuracy)
        #expect(c.candidateAccuracy == summary.cleanCandidateAccuracy)
        #expect(c.robustnessDrop == 0)
    }
}

@Test func resultsDoNotDependOnBatchingAndRepeat() throws {
    let conditions: [Perturbation] = [.gaussian(sigma: 0.2, absolute: false), .saltAndPepper(rate: 0.1), .fgsm(epsilon: 0.03)]
    let a = try run(conditions, batchSize: 64), b = try run(conditions, batchSize: 7), c = try run(conditions, batchSize: 64)
    #expect(a == b)
    #expect(a == c)
    #expect(a.conditions.allSatisfy { ($0.candidateAccuracy ?? 1) < (a.cleanCandidateAccuracy ?? 0) })
}

@Test func gaussianNoiseHasTheRequestedScalePerFeature() throws {
    var clean: [Float] = [], noisy: [Float] = []
    _ = try run([.gaussian(sigma: 0, absolute: false), .gaussian(sigma: 0.1, absolute: false)]) { name, _, x in
        if name.hasSuffix("_0.0") { clean += x.storage } else { noisy += x.storage }
    }
    let features = 64, n = clean.count / features
    var ratios: [Double] = []
    for f in 0..<features {
        let values = (0..<n).map { Double(clean[$0 * features + f]) }
        let mean = values.reduce(0, +) / Double(n)
        let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)).squareRoot()
        let deltas = (0..<n).map { Double(noisy[$0 * features + f] - clean[$0 * features + f]) }
        let spread = (deltas.map { $0 * $0 }.reduce(0, +) / Double(n)).squareRoot()
        if std == 0 { #expect(spread == 0) } else { ratios.append(spread / std) }
    }
    let mean = ratios.reduce(0, +) / Double(ratios.count)
    #expect(abs(mean - 0.1) < 0.005, "noise std / feature std = \(mean)")
}

@Test func tokenSubstitutionKeepsPaddingAndHitsTheRate() throws {
    var clean: [Float] = [], substituted: [Float] = []
    let summary = try run(
        [.tokenSubstitution(rate: 0), .tokenSubstitution(rate: 0.3)], reference: "models/keras3/text.h5",
        candidate: "models/keras3/text.h5", data: "data/token_inputs.h5"
    ) { name, _, x in
        if name.hasSuffix("_0.0") { clean += x.storage } else { substituted += x.storage }
    }
    let nonzero = clean.indices.filter { clean[$0] != 0 }
    #expect(clean.indices.allSatisfy { clean[$0] != 0 || substituted[$0] == 0 })
    let changed = Double(nonzero.filter { clean[$0] != substituted[$0] }.count) / Double(nonzero.count)
    #expect(abs(changed - 0.3) < 0.1, "changed \(changed)")
    #expect(summary.conditions[0].agreement == 1)
    #expect(summary.cleanReferenceAccuracy == nil)
}

@Test func noiseOnTokenIdsIsSkippedByDefaultAndRefusedWhenAsked() throws {
    let summary = try run(
        RobustnessPlan.defaultPerturbations, reference: "models/keras3/text.h5", candidate: "models/keras3/text.h5",
        data: "data/token_inputs.h5", named: false)
    #expect(summary.conditions.map(\.kind) == [.tokenSubstitution, .tokenSubstitution])
    #expect(summary.skipped.count == 6)
    #expect(throws: ModelPressError.self) {
        try run([.fgsm(epsilon: 0.01)], reference: "models/keras3/text.h5", candidate: "models/keras3/text.h5", data: "data/token_inputs.h5")
    }
}
