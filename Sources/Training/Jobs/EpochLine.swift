import Foundation

/// One plain progress line per epoch.
public enum EpochLine {
    /// `epoch 3/10  loss … acc … val_loss … val_acc …  0.120s  5000 samples/s`.
    public static func format(_ r: EpochRecord, epochs: Int) -> String {
        var line = String(format: "epoch %d/%d  loss %.4f", r.epoch, epochs, r.loss)
        if let a = r.accuracy { line += String(format: "  acc %.4f", a) }
        if let v = r.validationLoss { line += String(format: "  val_loss %.4f", v) }
        if let a = r.validationAccuracy { line += String(format: "  val_acc %.4f", a) }
        line += String(format: "  %.3fs  %.0f samples/s", r.seconds, r.samplesPerSecond)
        return line
    }
}
