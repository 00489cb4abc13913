import Foundation
import ModelIO
import ModelLoading
import TensorCore
import Testing
import _TestSupport

/// Models users bring (fixtures/make_coverage_fixtures.py, make_applications.py): models used
/// as layers flattened into the IR with path-like names, separable convolutions, numbers and
/// TensorFlow functions in layer calls — each computing what the Keras that wrote it computed.
@Suite("Nested Keras models and keras.applications")
struct KerasCoverageTests {
    static let files: [String] = [
        "keras3/nested_seq.h5", "keras3/nested_seq.keras", "keras2/nested_seq.h5",
        "keras3/nested_deep.h5", "keras3/nested_deep.keras", "keras2/nested_deep.h5",
        // SeparableConv2D stores its three weights together (the .keras layout once failed on it).
        "keras3/separable.h5", "keras3/separable.keras", "keras2/separable.h5",
        // Keras 3 operations on symbolic tensors (`keras.src.ops.*` nodes; the .h5 records no module).
        "keras3/operations.h5", "keras3/operations.keras",
        // Conv2DTranspose in every padding form and bilinear UpSampling2D.
        "keras3/decoder.h5", "keras3/decoder.keras", "keras2/decoder.h5",
        // 1-D sequence layers as height-1 images (Conv1D causal / dilated / strided / grouped, 1-D pooling, BN on sequences).
        "keras3/conv1d.h5", "keras3/conv1d.keras", "keras2/conv1d.h5",
        "keras3/sequence_resize.h5", "keras3/sequence_resize.keras", "keras2/sequence_resize.h5",
        // Token ids into Embedding (an int32 input; a float32 input whose ONNX export casts them).
        "keras3/text.h5", "keras3/text.keras", "keras2/text.h5", "keras3/bag_of_words.h5", "keras3/bag_of_words.keras", "keras2/bag_of_words.h5",
        // Recurrent layers: stacked LSTM on token ids (hard_sigmoid gates, relu, go_backwards), GRU both
        // ways, SimpleRNN with return_state, TimeDistributed(Dense), Bidirectional in every merge mode.
        "keras3/lstm_text.h5", "keras3/lstm_text.keras", "keras2/lstm_text.h5", "keras3/gru_rnn.h5", "keras3/gru_rnn.keras", "keras2/gru_rnn.h5",
        "keras3/bidirectional.h5", "keras3/bidirectional.keras", "keras2/bidirectional.h5",
        // MultiHeadAttention: self, cross (value_dim ≠ key_dim, no biases) and causal, in a Transformer encoder block.
        "keras3/transformer.h5", "keras3/transformer.keras", "keras2/transformer.h5",
        // Three inputs (ids, an attention mask passed by keyword, features), fed from three datasets.
        "keras3/multi_input.h5", "keras3/multi_input.keras", "keras2/multi_input.h5",
        // Keras masks (Embedding mask_zero on ids padded in front, behind and inside; Masking) through LSTM / GRU /
        // SimpleRNN / Bidirectional, masked means and attention with query / value masks.
        "keras3/masked_text.h5", "keras3/masked_text.keras", "keras2/masked_text.h5",
        "keras3/masked_sequence.h5", "keras3/masked_sequence.keras", "keras2/masked_sequence.h5",
        // keras-hub blocks by registered name: TokenAndPositionEmbedding, TransformerEncoder (post- and pre-norm),
        // TransformerDecoder (cross-attention, decoder-only), PositionEmbedding, SinePositionEncoding; with masks.
        "keras3/hub_encoder.h5", "keras3/hub_encoder.keras", "keras3/hub_decoder.h5", "keras3/hub_decoder.keras",
        // MobileNetV3: `x + 3.0` as an Add on a number (Keras 3; Keras cannot reload its own .h5) or TFOpLambda (tf-keras).
        "keras3/apps/mobilenet_v3_small.h5", "keras3/apps/mobilenet_v3_small.keras", "keras2/apps/mobilenet_v3_small.h5",
    ]

    @Test("outputs within 1e-5 of Keras (relative to the output range)", arguments: files)
    func matchesKeras(_ model: String) throws {
        let (ours, expected) = try KerasImportTests().predictions(model)
        #expect(ours.shape == expected.predictions.shape)
        let diff = maxAbsDifference(ours.storage, expected.predictions.storage)
        #expect(diff < 1e-5 * max(1, expected.predictions.storage.map(abs).max() ?? 1), "max |ours − Keras| = \(diff)")
    }

    @Test("layers are named by their path through the models; a model called twice reads one set of weights", arguments: ["keras3/nested_deep.h5", "keras3/nested_deep.keras", "keras2/nested_deep.h5"])
    func pathNames(_ model: String) throws {
        let graph = try ModelLoader.load(Fixtures.path("models/" + model))
        let layers = Set(graph.nodes.compactMap(\.layer))
        #expect(layers.isSuperset(of: ["stem", "block/inner_seq/inner_conv", "block/inner_seq/inner_bn", "block/block_add", "encoder/enc_conv", "head"]))
        let encoderConvs = graph.nodes.filter { $0.layer == "encoder/enc_conv" }
        #expect(encoderConvs.map(\.name) == ["encoder/enc_conv", "encoder_call1/enc_conv"])
        let kernels = try encoderConvs.map { node -> Tensor in
            guard let w = graph.initializers[node.inputs[1]] else { throw ModelPressError.internalError("no kernel for \(node.name)") }
            return w
        }
        #expect(kernels.count == 2 && kernels[0] == kernels[1], "both calls of the shared encoder use the same weights")
    }

    @Test("a frozen base inside Sequential: every weight of the base is read (BatchNorm statistics included)")
    func frozenBase() throws {
        let graph = try ModelLoader.load(Fixtures.path("models/keras3/nested_seq.h5"))
        let bn = graph.nodes.filter { $0.op.name == "BatchNormalization" }
        #expect(bn.map(\.layer) == ["base/stem_bn", "base/dw_bn"])
    }
}
