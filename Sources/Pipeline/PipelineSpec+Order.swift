extension PipelineSpec {
    /// Rejects stage orders and data gaps that cannot work, naming the stage's line.
    func checkStageOrder() throws {
        var quantizedAt: StageSpec?
        var artifactNames: [String: StageSpec] = [:]
        for (position, stage) in stages.enumerated() {
            if let quantize = quantizedAt, stage.kind.changesModel {
                throw YAMLError.at(
                    stage.location,
                    "\(stage.title) comes after \(quantize.title): the model is quantized by then, and \(stage.kind.rawValue) needs a float model.\nHINT: move quantize after every prune/distill/train stage.")
            }
            if let quantize = quantizedAt, quantize.option("dynamic")?.value == .flag(true), stage.kind == .export || stage.kind == .verify {
                throw YAMLError.at(
                    stage.location,
                    "\(stage.title) reads the model back, and \(quantize.title) writes a --dynamic file, which ModelPress does not read (onnxruntime runs it).\nHINT: drop this stage (the quantize stage's file becomes <name>.onnx; give it `opset:` there) or use static quantization."
                )
            }
            if stage.kind == .quantize { quantizedAt = stage }
            if stage.kind == .verify, position == 0, stages.dropFirst().first?.kind != .export {
                throw YAMLError.at(stage.location, "\(stage.title) is the first stage, so there is nothing to compare with the original yet.\nHINT: put verify after the stages that change the model.")
            }
            if let path = stage.option("path")?.text {
                if let earlier = artifactNames[path] {
                    throw YAMLError.at(stage.location, "\(stage.title) writes \(path), which \(earlier.title) writes too; give each export its own path.")
                }
                artifactNames[path] = stage
            }
            try checkData(for: stage)
        }
    }

    private func checkData(for stage: StageSpec) throws {
        func need(_ present: Bool, _ what: String) throws {
            guard present else {
                throw YAMLError.at(stage.location, "\(stage.title) needs \(what), and the pipeline has none.\nHINT: add it under `data:` or give the stage its own file.")
            }
        }
        switch stage.kind {
        case .distill, .train:
            try need(data.train != nil || stage.option("data") != nil, "training data (data.train)")
            if stage.kind == .distill { try need(stage.option("student") != nil, "a student (`student: dense:64,32` or a checkpoint)") }
        case .prune:
            if stage.option("schedule")?.text == "agp" || stage.option("fine_tune_data") != nil {
                try need(data.train != nil || stage.option("fine_tune_data") != nil, "fine-tuning data (data.train)")
            }
        case .quantize:
            try need(data.calibration != nil || data.train != nil || stage.option("calibration") != nil, "calibration data (data.calibration or data.train)")
            if stage.option("max_drop") != nil { try need(data.test != nil || stage.option("data") != nil, "test data for max_drop (data.test)") }
        case .verify:
            try need(data.test != nil || stage.option("data") != nil, "test data (data.test)")
        case .export:
            break
        }
    }
}
