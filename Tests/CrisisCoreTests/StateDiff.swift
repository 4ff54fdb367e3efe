import CrisisCore
import Testing

/// Every path at which two values differ (`active[0].progress.statement.1.phase`), found by reflection, so a
/// test can say which parts of the state an event may change and fail on any change it did not assert.
func differences(_ a: Any, _ b: Any, path: String = "") -> [String] {
    let ma = Mirror(reflecting: a)
    let mb = Mirror(reflecting: b)
    let here = path.isEmpty ? "(root)" : path
    switch (ma.displayStyle, mb.displayStyle) {
    case (.optional, .optional):
        switch (ma.children.first, mb.children.first) {
        case (nil, nil): return []
        case (let x?, let y?): return differences(x.value, y.value, path: path)
        default: return [here]
        }
    case (.collection?, .collection?), (.set?, .set?):
        let xs = ma.children.map(\.value)
        let ys = mb.children.map(\.value)
        if ma.displayStyle == .set {
            let sx = xs.map { String(describing: $0) }.sorted()
            let sy = ys.map { String(describing: $0) }.sorted()
            return sx == sy ? [] : [here]
        }
        var out: [String] = []
        for i in 0..<max(xs.count, ys.count) {
            guard i < xs.count, i < ys.count else {
                out.append("\(path)[\(i)]")
                continue
            }
            out += differences(xs[i], ys[i], path: "\(path)[\(i)]")
        }
        return out
    case (.dictionary?, .dictionary?):
        func entries(_ m: Mirror) -> [String: Any] {
            var out: [String: Any] = [:]
            for child in m.children {
                let pair = Mirror(reflecting: child.value).children.map(\.value)
                if pair.count == 2 { out[String(describing: pair[0])] = pair[1] }
            }
            return out
        }
        let x = entries(ma)
        let y = entries(mb)
        var out: [String] = []
        for key in Set(x.keys).union(y.keys).sorted() {
            guard let vx = x[key], let vy = y[key] else {
                out.append("\(path)[\(key)]")
                continue
            }
            out += differences(vx, vy, path: "\(path)[\(key)]")
        }
        return out
    case (.enum?, .enum?):
        let ca = ma.children.first
        let cb = mb.children.first
        guard ca?.label == cb?.label else { return [here] }
        guard let x = ca, let y = cb else {
            return String(describing: a) == String(describing: b) ? [] : [here]
        }
        return differences(x.value, y.value, path: join(path, x.label ?? "?"))
    case (.struct?, .struct?), (.class?, .class?), (.tuple?, .tuple?):
        let xs = Array(ma.children)
        let ys = Array(mb.children)
        guard xs.count == ys.count else { return [here] }
        var out: [String] = []
        for (index, (x, y)) in zip(xs, ys).enumerated() {
            out += differences(x.value, y.value, path: join(path, x.label ?? String(index)))
        }
        // Leaves with custom mirrors (Instant prints its time) are still compared by their text.
        if xs.isEmpty, String(describing: a) != String(describing: b) { out.append(here) }
        return out
    default:
        return String(describing: a) == String(describing: b) ? [] : [here]
    }
}

/// Appends a member; tuple members (`.0`, `.1` in a mirror) are written `0`, `1`.
private func join(_ path: String, _ label: String) -> String {
    let name = label.hasPrefix(".") ? String(label.dropFirst()) : label
    return path.isEmpty ? name : "\(path).\(name)"
}

/// Expects `after` to differ from `before` only at paths starting with one of `allowed`, and at each of them.
func expectChanges(
    from before: IncidentState, to after: IncidentState, only allowed: [String],
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    let changed = differences(before, after)
    for path in changed where !allowed.contains(where: { path == $0 || path.hasPrefix($0 + ".") || path.hasPrefix($0 + "[") }) {
        Issue.record("unexpected change at \(path)", sourceLocation: sourceLocation)
    }
    for prefix in allowed where !changed.contains(where: { $0 == prefix || $0.hasPrefix(prefix + ".") || $0.hasPrefix(prefix + "[") }) {
        Issue.record("expected a change at \(prefix)", sourceLocation: sourceLocation)
    }
}

@Suite("State diff")
struct StateDiffTests {
    @Test("The diff names every changed path and nothing else")
    func diffPaths() {
        var d = Driver(definition(playbook([task("a", role: "comms", timeout: "1h", next: ["done": "fin", "skipped": "fin", "timeout": "fin"]), end("fin", "ok")])))
        #expect(differences(d.state, d.state).isEmpty)
        let before = d.state
        d.advance("5m")
        d.act("a", "done")
        let changed = differences(before, d.state)
        #expect(changed.contains("status"))
        #expect(changed.contains("active[0]"))
        #expect(changed.contains("timers[0]"))
        #expect(changed.contains("visits[fin]"))
        #expect(!changed.contains { $0.hasPrefix("definition") || $0.hasPrefix("startedAt") || $0.hasPrefix("serial") })
    }
}
