import CrisisCore

/// Draws a playbook as a Mermaid flowchart or a Graphviz digraph (`crisis graph`). Output follows file order,
/// so the same playbook always gives the same text.
public enum PlaybookGraph {
    /// Mermaid (`flowchart TD`) or Graphviz DOT.
    public enum Format: String, Sendable, CaseIterable {
        case mermaid, dot
    }

    /// The playbook drawn in `format`.
    public static func render(_ playbook: Playbook, format: Format) -> String {
        switch format {
        case .mermaid: mermaid(playbook)
        case .dot: dot(playbook)
        }
    }

    /// One drawn edge: outcomes grouped by target, a timeout on its own (dashed).
    struct Edge: Equatable {
        var from: String
        var to: String
        var label: String
        var dashed: Bool
    }

    /// The edges leaving a step: outcomes going to the same target share one edge ("done, skipped"); the timeout
    /// outcome (including a choice's implicit timeout to its default) gets its own dashed edge.
    static func edges(of step: Step) -> [Edge] {
        var groups: [(target: String, outcomes: [String])] = []
        var out: [Edge] = []
        var timeoutTarget: String?
        for outcome in step.outcomes {
            var target = step.next[outcome]?.value
            if outcome == Outcome.timeout {
                if target == nil, case .choice(let c) = step.kind, let d = c.defaultOption {
                    target = step.next[d.value]?.value
                }
                if target == nil, case .choice(let c) = step.kind, case .escalate(let e)? = c.onTimeout {
                    // The choice stays open; the timeout escalates beside it.
                    target = e.value
                }
                timeoutTarget = target
                continue
            }
            guard let target else { continue }
            if let i = groups.firstIndex(where: { $0.target == target }) {
                groups[i].outcomes.append(outcome)
            } else {
                groups.append((target, [outcome]))
            }
        }
        for g in groups {
            out.append(Edge(from: step.id, to: g.target, label: g.outcomes.joined(separator: ", "), dashed: false))
        }
        if let timeoutTarget {
            out.append(Edge(from: step.id, to: timeoutTarget, label: Outcome.timeout, dashed: true))
        }
        return out
    }

    /// How a step kind is drawn, in both formats.
    enum Shape {
        /// choice: a rhombus.
        case decision
        /// end: a stadium (Mermaid), rounded (DOT).
        case terminal
        /// parallel and foreach: a subroutine box (Mermaid), a double border (DOT).
        case container
        /// Everything else: a box.
        case action
    }

    static func shape(_ type: StepType) -> Shape {
        switch type {
        case .choice: .decision
        case .end: .terminal
        case .parallel, .foreach: .container
        case .task, .holdingStatement, .takedown, .escalate, .notify, .clock, .wait, .submission: .action
        }
    }

    static func label(_ step: Step) -> String {
        "\(step.typeName): \(step.title ?? step.id)"
    }

    /// What both formats share: every node in file order (indented four spaces), each parallel branch and
    /// foreach body as a group entered by an edge from its owner, then every route. The formats differ only in
    /// how a node, an edge and a group are written.
    static func layout(
        _ playbook: Playbook, node: (Step) -> String, edge: (Edge) -> String,
        group: (_ id: String, _ label: String) -> (open: [String], close: String)
    ) -> (nodes: [String], edges: [String]) {
        var nodes: [String] = []
        var edges: [String] = []
        func emitGroup(_ id: String, _ label: String, _ steps: [Step], indent: String) {
            let g = group(id, label)
            nodes += g.open.map { indent + $0 }
            emit(steps, indent: indent + "    ")
            nodes.append(indent + g.close)
        }
        func emit(_ steps: [Step], indent: String) {
            for step in steps {
                nodes.append(indent + node(step))
                switch step.kind {
                case .parallel(let p):
                    for b in p.branches {
                        if !b.start.value.isEmpty {
                            edges.append(edge(Edge(from: step.id, to: b.start.value, label: b.id, dashed: false)))
                        }
                        emitGroup("\(step.id)__\(b.id)", "branch \(b.id)", b.steps, indent: indent)
                    }
                case .foreach(let f):
                    edges.append(edge(Edge(from: step.id, to: f.body.id, label: "each \(f.itemName)", dashed: false)))
                    emitGroup("\(step.id)__each", "for each \(f.itemName) in \(f.items.value)", [f.body], indent: indent)
                case .choice, .task, .holdingStatement, .takedown, .escalate, .notify, .clock, .wait, .end, .submission:
                    break
                }
                edges.append(contentsOf: self.edges(of: step).map(edge))
            }
        }
        emit(playbook.steps, indent: "    ")
        return (nodes, edges)
    }

    // MARK: Mermaid

    static let mermaidReserved: Set<String> = [
        "end", "graph", "flowchart", "subgraph", "style", "class", "classdef", "click", "linkstyle", "direction",
        "call", "href",
    ]

    static func mermaidID(_ id: String) -> String {
        let s = id.replacingOccurrences(of: ".", with: "__")
        return mermaidReserved.contains(s.lowercased()) ? s + "__" : s
    }

    /// Escapes text for a quoted Mermaid label.
    static func mermaidText(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "#": out += "#35;"
            case "\"": out += "#quot;"
            case "<": out += "#lt;"
            case ">": out += "#gt;"
            case "[": out += "#91;"
            case "]": out += "#93;"
            case "{": out += "#123;"
            case "}": out += "#125;"
            case "(": out += "#40;"
            case ")": out += "#41;"
            case "|": out += "#124;"
            case "\n", "\r", "\r\n", "\t": out += " "
            default: out.append(c)
            }
        }
        return out
    }

    static func mermaidNode(_ step: Step) -> String {
        let id = mermaidID(step.id)
        let text = "\"\(mermaidText(label(step)))\""
        switch shape(step.stepType) {
        case .decision: return "\(id){\(text)}"
        case .terminal: return "\(id)([\(text)])"
        case .container: return "\(id)[[\(text)]]"
        case .action: return "\(id)[\(text)]"
        }
    }

    /// A Mermaid flowchart: choices as rhombi, end steps as stadiums, parallel branches and foreach bodies as
    /// subgraphs, timeout routes dashed (`-.->`).
    public static func mermaid(_ playbook: Playbook) -> String {
        var lines = ["flowchart TD"]
        func arrow(_ e: Edge) -> String {
            "\(mermaidID(e.from)) \(e.dashed ? "-.->" : "-->")|\"\(mermaidText(e.label))\"| \(mermaidID(e.to))"
        }
        let body = layout(playbook, node: mermaidNode, edge: arrow) { id, label in
            (["subgraph \(mermaidID(id))[\"\(mermaidText(label))\"]"], "end")
        }
        lines.append("    _start((\"start\"))")
        if let d = playbook.deadline, d.next != nil {
            lines.append("    _deadline>\"\(mermaidText("deadline after \(d.after)"))\"]")
        }
        lines += body.nodes
        lines.append("    _start --> \(mermaidID(playbook.start.value))")
        if let d = playbook.deadline, let next = d.next {
            lines.append("    _deadline -.-> \(mermaidID(next.value))")
        }
        lines.append(contentsOf: body.edges.map { "    " + $0 })
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: DOT

    static func dotText(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n", "\r", "\r\n", "\t": out += " "
            default: out.append(c)
            }
        }
        return "\"\(out)\""
    }

    static func dotNode(_ step: Step) -> String {
        var attributes = ["label=\(dotText(label(step)))"]
        switch shape(step.stepType) {
        case .decision: attributes.append("shape=diamond")
        case .terminal: attributes.append("style=rounded")
        case .container: attributes.append("peripheries=2")
        case .action: break
        }
        return "\(dotText(step.id)) [\(attributes.joined(separator: ", "))];"
    }

    /// A Graphviz digraph with the same content: branches as clusters, timeout routes `style=dashed`.
    public static func dot(_ playbook: Playbook) -> String {
        var lines = ["digraph \(dotText(playbook.id)) {", "    rankdir=TB;", "    node [shape=box];"]
        func arrow(_ e: Edge) -> String {
            var attributes = ["label=\(dotText(e.label))"]
            if e.dashed { attributes.append("style=dashed") }
            return "\(dotText(e.from)) -> \(dotText(e.to)) [\(attributes.joined(separator: ", "))];"
        }
        let body = layout(playbook, node: dotNode, edge: arrow) { id, label in
            (["subgraph \(dotText("cluster_\(id)")) {", "    label=\(dotText(label));"], "}")
        }
        lines.append("    \"_start\" [label=\"start\", shape=circle];")
        if let d = playbook.deadline, d.next != nil {
            lines.append("    \"_deadline\" [label=\(dotText("deadline after \(d.after)")), shape=cds];")
        }
        lines += body.nodes
        lines.append("    \"_start\" -> \(dotText(playbook.start.value));")
        if let d = playbook.deadline, let next = d.next {
            lines.append("    \"_deadline\" -> \(dotText(next.value)) [style=dashed];")
        }
        lines.append(contentsOf: body.edges.map { "    " + $0 })
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}
