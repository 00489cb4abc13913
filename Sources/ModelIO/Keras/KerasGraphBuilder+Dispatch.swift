import TensorCore

/// Built-in Keras layers ModelPress converts (anything else is refused by name).
let supportedKerasLayers: Set<String> = [
    "InputLayer", "Dense", "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "BatchNormalization",
    "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "MaxPooling2D", "AveragePooling2D",
    "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Flatten", "Reshape", "Permute", "Dropout",
    "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization",
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "ZeroPadding2D",
    "Cropping2D", "UpSampling2D", "Rescaling", "Normalization",
]

extension KerasGraphBuilder {
    /// Converts one call of a layer on `inputs` to IR nodes; returns the output value.
    mutating func convertCall(_ layer: KerasLayerSpec, _ config: KerasConfig, inputs: [KerasValue], name: String) throws -> KerasValue {
        func single() throws -> KerasValue {
            guard inputs.count == 1, let x = inputs.first else { throw config.fail("expects one input, got \(inputs.count)") }
            return x
        }
        try checkChannelsLast(config)
        switch layer.className {
        case "Dense": return try dense(try single(), config, name: name)
        case "Conv2D": return try conv2D(try single(), config, name: name)
        case "DepthwiseConv2D": return try depthwiseConv2D(try single(), config, name: name)
        case "SeparableConv2D": return try separableConv2D(try single(), config, name: name)
        case "BatchNormalization": return try batchNormalization(try single(), config, name: name)
        case "Activation":
            return try activation(try single(), named: try config.string("activation", default: "linear"), config, name: name)
        case "ReLU": return try reluLayer(try single(), config, name: name)
        case "LeakyReLU":
            let alpha = try config.optionalFloat("negative_slope") ?? config.optionalFloat("alpha") ?? 0.3
            return try emit(.activation(.leakyRelu(alpha: alpha)), [try single().name], name: name, layer: config.layer, channelsFirst: try single().channelsFirst)
        case "ELU":
            let alpha = try config.float("alpha", default: 1)
            return try emit(.activation(.elu(alpha: alpha)), [try single().name], name: name, layer: config.layer, channelsFirst: try single().channelsFirst)
        case "PReLU": return try prelu(try single(), config, name: name)
        case "Softmax": return try softmaxLayer(try single(), config, name: name)
        case "MaxPooling2D", "AveragePooling2D": return try pooling(try single(), config, name: name, max: layer.className == "MaxPooling2D")
        case "GlobalAveragePooling2D", "GlobalMaxPooling2D":
            return try globalPooling(try single(), config, name: name, max: layer.className == "GlobalMaxPooling2D")
        case "Flatten": return try flatten(try single(), config, name: name)
        case "Reshape": return try reshape(try single(), config, name: name)
        case "Permute": return try permute(try single(), config, name: name)
        case "Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization":
            return try single() // inference: identity
        case "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum":
            return try merge(inputs, layer.className, config, name: name)
        case "Concatenate": return try concatenate(inputs, config, name: name)
        case "ZeroPadding2D": return try zeroPadding(try single(), config, name: name)
        case "Cropping2D": return try cropping(try single(), config, name: name)
        case "UpSampling2D": return try upSampling(try single(), config, name: name)
        case "Rescaling": return try rescaling(try single(), config, name: name)
        case "Normalization": return try normalization(try single(), config, name: name)
        default:
            let list = supportedKerasLayers.sorted().joined(separator: ", ")
            throw ModelPressError.unsupportedLayer(
                file: file, layer: layer.name, className: layer.className,
                reason: "is not supported by ModelPress.\nHINT: supported layers are: \(list). Replace the layer or open an issue with the model.")
        }
    }

    /// ModelPress reads channels-last models (the Keras default); refuse channels_first configs.
    private func checkChannelsLast(_ config: KerasConfig) throws {
        let format = try config.string("data_format", default: "channels_last")
        guard format == "channels_last" else {
            throw config.fail("uses data_format '\(format)'", hint: "save the model with channels_last (the Keras default)")
        }
    }
}
