/// Shape arithmetic that cannot overflow or go negative on values read from a user's file.
public enum Checked {
    /// The product of `dims`, or `nil` when a dimension is negative or the product overflows `Int`.
    public static func product<C: Collection>(_ dims: C) -> Int? where C.Element == Int {
        var result = 1
        for d in dims {
            guard d >= 0 else { return nil }
            let (p, overflow) = result.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            result = p
        }
        return result
    }

    /// `a * b`, or `nil` on overflow.
    public static func multiply(_ a: Int, _ b: Int) -> Int? {
        let (p, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : p
    }

    /// `a + b`, or `nil` on overflow.
    public static func add(_ a: Int, _ b: Int) -> Int? {
        let (s, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : s
    }

    /// The sum of `values`, or `nil` on overflow.
    public static func sum(_ values: [Int]) -> Int? {
        var total = 0
        for v in values {
            guard let t = add(total, v) else { return nil }
            total = t
        }
        return total
    }
}
