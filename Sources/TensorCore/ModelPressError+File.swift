extension ModelPressError {
    /// The same error with an empty file name replaced by `file` (errors raised below the
    /// file readers, such as shape inference, do not know which file they came from).
    public func attributed(to file: String) -> ModelPressError {
        switch self {
        case .invalidModel("", let location, let message, let hint):
            return .invalidModel(file: file, location: location, message: message, hint: hint)
        case .shapeMismatch("", let location, let what, let expected, let actual):
            return .shapeMismatch(file: file, location: location, what: what, expected: expected, actual: actual)
        default:
            return self
        }
    }
}
