/// JUnit XML rendering: one test suite, one test case per gate.
extension VerificationReport {
    /// JUnit XML (the common Ant/Jenkins/GitLab dialect): a `<testcase>` per gate, with a
    /// `<failure message=…>` when the gate fails. Without gates, one case records that.
    public func junitXML(suiteName: String = "modelpress verify") -> String {
        let failures = gates.filter { !$0.passed }.count
        var cases: [String] = gates.map { g in
            let head = "    <testcase classname=\"modelpress.verify\" name=\"\(escapeXML(g.name))\" time=\"0\""
            guard !g.passed else { return head + "/>" }
            return head + ">\n      <failure message=\"\(escapeXML(g.message))\" type=\"GateFailure\">"
                + escapeXML("\(g.name): value \(g.value) \(g.comparison == "<=" ? "exceeds" : "is below") limit \(g.limit)\nreference: \(reference.path)\ncandidate: \(candidate.path)")
                + "</failure>\n    </testcase>"
        }
        if cases.isEmpty {
            cases = ["    <testcase classname=\"modelpress.verify\" name=\"no_gates\" time=\"0\"/>"]
        }
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuites name="\(escapeXML(suiteName))" tests="\(max(1, gates.count))" failures="\(failures)" errors="0">
              <testsuite name="\(escapeXML(suiteName))" tests="\(max(1, gates.count))" failures="\(failures)" errors="0" skipped="0">
                <properties>
                  <property name="reference" value="\(escapeXML(reference.path))"/>
                  <property name="candidate" value="\(escapeXML(candidate.path))"/>
                  <property name="data" value="\(escapeXML(data.path))"/>
                </properties>
            \(cases.joined(separator: "\n"))
              </testsuite>
            </testsuites>

            """
    }
}
