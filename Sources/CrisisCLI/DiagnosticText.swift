import CrisisCore
import CrisisPlaybook
import Foundation

/// Prints diagnostics as `path:line:column: error|warning: message [code]`, in colour only when the output is a
/// terminal and `NO_COLOR` is not set.
struct DiagnosticPrinter: Sendable {
    /// Whether to use ANSI colours.
    var useColor: Bool

    /// A printer that colours exactly when `useColor` is set.
    init(useColor: Bool) { self.useColor = useColor }

    /// A printer for a file descriptor (1 = stdout, 2 = stderr) that colours only on a terminal and never with
    /// `NO_COLOR` set (https://no-color.org: any non-empty value).
    static func forDescriptor(
        _ fd: Int32, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> DiagnosticPrinter {
        let noColor = !(environment["NO_COLOR"] ?? "").isEmpty
        return DiagnosticPrinter(useColor: !noColor && isatty(fd) == 1)
    }

    /// One line per diagnostic, in sorted order, each ending with a newline.
    func render(_ diagnostics: [Diagnostic]) -> String {
        Diagnostic.sorted(diagnostics).map { render($0) + "\n" }.joined()
    }

    /// One diagnostic, without a trailing newline.
    func render(_ d: Diagnostic) -> String {
        guard useColor else { return d.description }
        let bold = "\u{1B}[1m"
        let reset = "\u{1B}[0m"
        let colour = d.severity == .error ? "\u{1B}[1;31m" : "\u{1B}[1;35m"
        let l = d.location
        return "\(bold)\(l.file):\(l.line):\(l.column):\(reset) \(colour)\(d.severity.rawValue):\(reset) "
            + "\(bold)\(d.message)\(reset) [\(d.code.rawValue)]"
    }
}

/// `crisis validate` for people.
enum ValidationText {
    /// Diagnostics, then one summary line per file: `x.yaml: ok (12 steps)` or `x.yaml: 2 errors, 1 warning`.
    static func text(_ reports: [FileReport], printer: DiagnosticPrinter = DiagnosticPrinter(useColor: false))
        -> String
    {
        var out = ""
        for r in reports {
            for e in r.diagnostics {
                let d = Diagnostic(
                    Diagnostic.Severity(rawValue: e.severity) ?? .error, e.code, e.message,
                    at: SourceLocation(file: e.file, line: e.line, column: e.column))
                out += printer.render(d) + "\n"
            }
        }
        for r in reports {
            let errors = r.diagnostics.filter { $0.severity == "error" }.count
            let warnings = r.diagnostics.count - errors
            func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
            if errors == 0 {
                var details: [String] = []
                if let steps = r.steps { details.append(plural(steps, "step")) }
                if warnings > 0 { details.append(plural(warnings, "warning")) }
                out += "\(r.file): ok" + (details.isEmpty ? "" : " (\(details.joined(separator: ", ")))") + "\n"
            } else {
                out += "\(r.file): \(plural(errors, "error")), \(plural(warnings, "warning"))\n"
            }
        }
        return out
    }
}
