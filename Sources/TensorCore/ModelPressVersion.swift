/// The version printed by `--version` and written into exported files.
public enum ModelPressVersion {
    /// Semantic version of this build.
    public static let string = "0.1.0"
}
