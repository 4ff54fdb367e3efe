import CrisisCore
import CrisisRuntime
import Foundation

/// `crisis export --format html`: the report as one self-contained page. Inline CSS only: no script, no external
/// font, image, style sheet or other resource (an evidence URL is text, never fetched). It prints cleanly to PDF
/// (tables do not break inside rows, headers repeat); a drill carries its marking on screen as a banner and in
/// print as a header and footer on every page. An inline SVG timeline draws lanes for statements, takedowns,
/// escalations, clocks and other records, with a tooltip on every marker. Every recorded text is HTML-escaped.
enum HTMLReport: ReportLayout {
    static func layOut<T>(
        _ out: @escaping (String) throws -> Void,
        _ produce: (_ begin: (IncidentReport) throws -> Void, _ emit: (ReportBlock) throws -> Void) throws -> T
    ) throws -> T {
        var drill = false
        var number = 0
        var inSection = false
        // Text set aside (the notes and the timeline, laid out while the trail is read).
        let sides: [ReportBlock.Channel: SideText] = [.notes: SideText(), .timeline: SideText()]
        var channel: ReportBlock.Channel?
        func put(_ text: String) throws {
            if let channel, let side = sides[channel] { try side.write(text) } else { try out(text) }
        }
        var report: IncidentReport?
        func begin(_ built: IncidentReport) throws {
            report = built
            let s = built.summary
            drill = s.isDrill
            try out("""
                <!DOCTYPE html>
                <html lang="en">
                <head>
                <meta charset="utf-8">
                <meta name="viewport" content="width=device-width, initial-scale=1">
                <meta name="generator" content="crisis \(escape(CrisisVersion.release))">
                <title>\(drill ? "DRILL — " : "")Incident report: \(escape(TerminalText.escape(s.title)))</title>
                <style>\(css)\(drill ? drillPages : "")</style>
                </head>
                <body class="\(drill ? "drill" : "live")">

                """)
            if drill { try out("<div class=\"banner\" role=\"note\">\(escape(ReportDocument.drillMarking))</div>\n") }
            try out("<main>\n")
        }
        func emit(_ block: ReportBlock) throws {
            switch block {
            case .title(let title, let subtitle):
                try put("<header class=\"title\"><h1>\(escape(title))</h1><p>\(escape(subtitle))</p></header>\n")
            case .section(let title, let id):
                number += 1
                if inSection { try put("</section>\n") }
                inSection = true
                let tag = drill ? " <span class=\"tag\">DRILL</span>" : ""
                try put("<section id=\"\(id)\"><h2><span class=\"n\">\(number)</span> \(escape(title))\(tag)</h2>\n")
            case .subsection(let title): try put("<h3>\(escape(title))</h3>\n")
            case .minor(let title): try put("<h4>\(escape(title))</h4>\n")
            case .facts(let rows):
                try put("<table class=\"facts\"><tbody>\n")
                for (name, c) in rows { try put("<tr><th scope=\"row\">\(escape(name))</th>\(cell(c))</tr>\n") }
                try put("</tbody></table>\n")
            case .tableStart(let columns):
                let timeline = columns == ["#", "Time", "Who", "What"]
                try put("<table class=\"grid\(timeline ? " log" : "")\"><thead><tr>"
                    + columns.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead><tbody>\n")
            case .row(let cells):
                var line = "<tr>"
                for c in cells { line += cell(c) }
                try put(line + "</tr>\n")
            case .tableEnd: try put("</tbody></table>\n")
            case .paragraph(let text, let tone): try put("<p class=\"\(toneClass(tone))\">\(escape(text))</p>\n")
            case .quote(let label, let text):
                try put("<figure class=\"statement\"><figcaption>\(escape(label))</figcaption><blockquote>"
                    + escape(text) + "</blockquote></figure>\n")
            case .chart: if let report { try put(chart(report)) }
            case .divert(let to): channel = to
            case .undivert(let from): if let side = sides[from] { try side.drain(out) }
            case .footer(let text):
                if inSection { try put("</section>\n") }
                inSection = false
                try put("<footer class=\"end\"><p>\(escape(text))</p></footer>\n")
            }
        }
        let result = try produce(begin, emit)
        if inSection { try out("</section>\n") }
        try out("</main>\n")
        if drill { try out("<div class=\"banner bottom\" role=\"note\">\(escape(ReportDocument.drillMarking))</div>\n") }
        try out("</body>\n</html>\n")
        return result
    }

    static func toneClass(_ tone: ReportBlock.Tone) -> String {
        switch tone {
        case .plain: "plain"
        case .code: "code"
        case .good: "good"
        case .bad: "bad"
        case .muted: "muted"
        }
    }

    /// `2026-03-02 09:00…` (at most 23 characters): checked by hand, not by a regular expression per cell.
    static func isLocalTime(_ text: String) -> Bool {
        guard text.utf8.count >= 16, text.utf8.count <= 23 else { return false }
        var text = text
        return text.withUTF8 { b in
            localTimeDigits.allSatisfy { b[$0] >= 0x30 && b[$0] <= 0x39 } && b[4] == 0x2D && b[7] == 0x2D
                && b[10] == 0x20 && b[13] == 0x3A
        }
    }

    private static let localTimeDigits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15]

    static func cell(_ c: ReportBlock.Cell) -> String {
        // A local time (`2026-03-02 09:00 +01:00`) is never broken over lines (class `time`: no wrapping).
        let time = isLocalTime(c.text)
        // So is a short result (`met, 2d 23h to spare`).
        let short = (c.tone == .good || c.tone == .bad) && c.text.count <= 28
        return "<td class=\"\(toneClass(c.tone))\(time || short ? " time" : "")\">\(escape(c.text))</td>"
    }

    /// Text made inert in HTML (element content and attribute values alike): `& < > " '` as references, and any
    /// control, bidi or invisible format character shown as `\u{...}` (TerminalText.isUnsafe), NUL included.
    static func escape(_ text: String) -> String {
        // Most texts are plain ASCII with nothing to escape: returned as they are.
        let table = plainUnsafe
        var copy = text
        let plain = copy.withUTF8 { b in
            b.allSatisfy { ($0 >= 0x20 && $0 < 0x7F && !table[Int($0)]) || $0 == 0x0A || $0 == 0x09 }
        }
        if plain { return text }
        // Gathered as UTF-8 bytes (appending scalars to a String one by one is slow).
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 16)
        for s in text.unicodeScalars {
            switch s {
            case "&": out.append(contentsOf: "&amp;".utf8)
            case "<": out.append(contentsOf: "&lt;".utf8)
            case ">": out.append(contentsOf: "&gt;".utf8)
            case "\"": out.append(contentsOf: "&quot;".utf8)
            case "'": out.append(contentsOf: "&#39;".utf8)
            case "\n", "\t": out.append(UInt8(s.value))
            case _ where TerminalText.isUnsafe(s):
                out.append(contentsOf: ("\\u{" + String(s.value, radix: 16, uppercase: true) + "}").utf8)
            default: out.append(contentsOf: s.utf8)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The ASCII bytes `escape` replaces: `& < > " '`.
    private static let plainUnsafe: [Bool] = (0..<128).map { "&<>\"'".utf8.contains(UInt8($0)) }

    // MARK: the SVG timeline

    struct Marker {
        var at: Instant
        var lane: Int
        var shape: Shape
        var colour: String
        var title: String
    }

    enum Shape {
        case circle, diamond, square, triangle, tick

        /// The marker at (x, y), with its tooltip element (`tip`, already escaped) inside.
        func svg(x: Double, y: Double, colour: String, tip: String) -> String {
            func f(_ v: Double) -> String { String(format: "%.1f", v) }
            let edge = "fill=\"\(colour)\" stroke=\"#fff\" stroke-width=\"1.5\""
            func polygon(_ points: [(Double, Double)]) -> String {
                "<polygon points=\"\(points.map { "\(f(x + $0.0)),\(f(y + $0.1))" }.joined(separator: " "))\" \(edge)>\(tip)</polygon>\n"
            }
            switch self {
            case .circle: return "<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"5\" \(edge)>\(tip)</circle>\n"
            case .square:
                return "<rect x=\"\(f(x - 4.5))\" y=\"\(f(y - 4.5))\" width=\"9\" height=\"9\" \(edge)>\(tip)</rect>\n"
            case .diamond: return polygon([(0, -6.5), (6.5, 0), (0, 6.5), (-6.5, 0)])
            case .triangle: return polygon([(0, -6), (6, 5), (-6, 5)])
            case .tick:
                return "<line x1=\"\(f(x))\" y1=\"\(f(y - 11))\" x2=\"\(f(x))\" y2=\"\(f(y + 11))\" stroke=\"\(colour)\" "
                    + "stroke-width=\"2\" stroke-dasharray=\"3 2\">\(tip)</line>\n"
            }
        }
    }

    struct Span {
        var from: Instant
        var to: Instant
        var lane: Int
        var colour: String
        var title: String
    }

    static let lanes = ["Statements", "Takedowns", "Escalations", "Clocks", "Other"]

    /// The lanes, their spans (a step from entry to exit, a clock from start to stop) and markers, from the
    /// report model (not from the records: its size follows the steps, not the trail).
    static func chart(_ r: IncidentReport) -> String {
        let zone = r.zone
        let e = { (t: String) in TerminalText.escape(t) }
        func at(_ i: Instant) -> String { zone.human(i) }
        let start = r.summary.openedAt
        let end = max(r.summary.closedAt ?? r.summary.lastRecordAt, start + PlaybookDuration.minutes(1))
        var spans: [Span] = []
        var marks: [Marker] = []
        let blue = "#2563eb", green = "#15803d", red = "#b91c1c", amber = "#b45309", grey = "#64748b", violet = "#7c3aed"
        for st in r.statements {
            spans.append(Span(from: st.enteredAt, to: st.exitedAt ?? end, lane: 0, colour: blue,
                              title: "\(e(st.title)): \(at(st.enteredAt)) to \(st.exitedAt.map(at) ?? "end")"))
            for d in st.drafts {
                marks.append(Marker(at: d.at, lane: 0, shape: .circle, colour: blue,
                                    title: "\(e(st.title)): revision \(d.revision) drafted by \(e(r.person(d.drafter))) at \(at(d.at))"))
            }
            for a in st.decisions {
                marks.append(Marker(at: a.at, lane: 0, shape: .diamond, colour: a.approved ? green : red,
                                    title: "\(e(st.title)): revision \(a.revision) \(a.approved ? "approved" : "rejected") by \(e(r.person(a.person))) (\(e(a.role))) at \(at(a.at))"))
            }
            for p in st.publications {
                guard let when = p.settledAt else { continue }
                marks.append(Marker(at: when, lane: 0, shape: .square, colour: p.status == "failed" ? red : violet,
                                    title: "\(e(st.title)): published on \(e(p.channel))\(p.language.map { " in \(e($0))" } ?? ""), \(p.status), at \(at(when))"))
            }
        }
        for t in r.takedowns {
            spans.append(Span(from: t.enteredAt, to: t.exitedAt ?? end, lane: 1, colour: amber,
                              title: "\(e(t.title)) on \(e(t.run.platform)): \(t.run.status.rawValue)"))
            for h in t.run.history where h.to != .submitted {
                let good = h.to == .removed || h.to == .partiallyRemoved || h.to == .acknowledged
                marks.append(Marker(at: h.at, lane: 1, shape: .circle, colour: good ? green : h.to == .drafted ? grey : red,
                                    title: "\(e(t.title)): \(h.from.rawValue) → \(h.to.rawValue) by \(e(r.person(h.by))) at \(at(h.at))"))
            }
            if let sub = t.run.submission {  // drawn last: on top of a status change at the same instant
                marks.append(Marker(at: sub.at, lane: 1, shape: .square, colour: amber,
                                    title: "\(e(t.title)): notice submitted to \(e(t.run.platform)) by \(e(r.person(sub.by))) at \(at(sub.at))"))
            }
        }
        for esc in r.escalations {
            spans.append(Span(from: esc.enteredAt, to: esc.exitedAt ?? end, lane: 2, colour: red,
                              title: "\(e(esc.title)): \(esc.outcome.map(e) ?? "active")"))
            for a in esc.attempts {
                let to = a.pages.flatMap(\.recipients).map { e(r.person($0)) }.joined(separator: ", ")
                marks.append(Marker(at: a.at, lane: 2, shape: .triangle, colour: red,
                                    title: "\(e(esc.title)): attempt \(a.attempt), level \(a.level + 1), paged \(to) at \(at(a.at))"))
            }
            for k in esc.acks {
                marks.append(Marker(at: k.at, lane: 2, shape: .circle, colour: green,
                                    title: "\(e(esc.title)): acknowledged by \(e(r.person(k.person)))\(k.channel.map { " via \(e($0))" } ?? "") at \(at(k.at))"))
            }
        }
        for c in r.clocks {
            let stop = c.stoppedAt ?? end
            let missed: Bool = if case .missed = c.result { true } else { false }
            spans.append(Span(from: c.startedAt, to: stop, lane: 3, colour: missed ? red : green,
                              title: "\(e(c.title)): \(at(c.startedAt)) to \(c.stoppedAt.map(at) ?? "end"), deadline \(at(c.deadline))"))
            if c.deadline <= end {  // a deadline past the end of the axis is in the bar's tooltip only
                marks.append(Marker(at: c.deadline, lane: 3, shape: .tick, colour: red,
                                    title: "\(e(c.title)): deadline \(at(c.deadline))"))
            }
        }
        for t in r.targets {
            if let met = t.metAt {
                marks.append(Marker(at: met, lane: 3, shape: .diamond, colour: met <= (t.due ?? met) ? green : red,
                                    title: "target \(e(t.title)) met at \(at(met))"))
            } else if let due = t.due, due <= end {
                marks.append(Marker(at: due, lane: 3, shape: .diamond, colour: red, title: "target \(e(t.title)) due \(at(due)), not met"))
            }
        }
        marks.append(Marker(at: start, lane: 4, shape: .circle, colour: grey,
                            title: "opened at \(at(start)) by \(e(r.person(r.summary.openedBy)))"))
        for n in r.firstNotes {
            marks.append(Marker(at: n.at, lane: 4, shape: .square, colour: grey,
                                title: "note by \(e(r.person(n.by))) at \(at(n.at)): \(e(String(n.text.prefix(200))))"))
        }
        if let closed = r.summary.closedAt {
            marks.append(Marker(at: closed, lane: 4, shape: .diamond, colour: "#0f172a",
                                title: "closed at \(at(closed)): \(e(r.summary.outcome ?? ""))"))
        }

        // Geometry.
        let width = 1000.0, left = 112.0, right = 16.0, top = 28.0, laneHeight = 34.0
        let plot = width - left - right
        let height = top + laneHeight * Double(lanes.count) + 56
        let total = Double(max(1, (end - start).milliseconds))
        func x(_ i: Instant) -> Double {
            let f = Double((i - start).milliseconds) / total
            return left + plot * min(1, max(0, f))
        }
        func y(_ lane: Int) -> Double { top + laneHeight * Double(lane) + laneHeight / 2 }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var svg = "<figure class=\"chart\"><svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" "
            + "role=\"img\" aria-labelledby=\"chart-title\"><title id=\"chart-title\">Timeline from \(at(start)) to \(at(end))</title>\n"
        for (i, name) in lanes.enumerated() {
            let y0 = top + laneHeight * Double(i)
            svg += "<rect x=\"0\" y=\"\(f(y0))\" width=\"\(Int(width))\" height=\"\(f(laneHeight))\" fill=\"\(i % 2 == 0 ? "#f8fafc" : "#ffffff")\"/>"
            svg += "<text x=\"8\" y=\"\(f(y0 + laneHeight / 2 + 4))\" class=\"lane\">\(name)</text>\n"
        }
        // Time axis: a tick step that gives about eight ticks.
        let steps: [Int64] = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172_800, 604_800].map { $0 * 1000 }
        let step = steps.first { Double($0) * 8 >= total } ?? steps.last!
        let firstTick = (start.millisecondsSinceEpoch / step + 1) * step
        var tick = firstTick
        var lastDay = String(at(start).prefix(10))
        let axisY = top + laneHeight * Double(lanes.count)
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(axisY))\" x2=\"\(f(width - right))\" y2=\"\(f(axisY))\" class=\"axis\"/>"
        svg += "<text x=\"\(f(left))\" y=\"\(f(top - 10))\" class=\"tick start\">\(escape(at(start)))</text>"
        svg += "<text x=\"\(f(width - right))\" y=\"\(f(top - 10))\" class=\"tick end\">\(escape(at(end)))</text>\n"
        while tick < end.millisecondsSinceEpoch {
            let i = Instant(millisecondsSinceEpoch: tick)
            let label = at(i)
            let day = String(label.prefix(10))
            let text = day != lastDay ? String(label.prefix(16).dropFirst(5)) : String(label.dropFirst(11).prefix(5))
            lastDay = day
            svg += "<line x1=\"\(f(x(i)))\" y1=\"\(f(top))\" x2=\"\(f(x(i)))\" y2=\"\(f(axisY + 4))\" class=\"grid\"/>"
            svg += "<text x=\"\(f(x(i)))\" y=\"\(f(axisY + 18))\" class=\"tick\">\(escape(text))</text>\n"
            tick += step
        }
        for s in spans {
            let x0 = x(s.from), x1 = max(x(s.to), x0 + 2)
            svg += "<rect x=\"\(f(x0))\" y=\"\(f(y(s.lane) - 5))\" width=\"\(f(x1 - x0))\" height=\"10\" rx=\"3\" "
                + "fill=\"\(s.colour)\" fill-opacity=\"0.18\" stroke=\"\(s.colour)\" stroke-opacity=\"0.5\">"
                + "<title>\(escape(s.title))</title></rect>\n"
        }
        // The legend, under the axis.
        let legend: [(Shape, String, String)] = [
            (.circle, blue, "draft"), (.diamond, green, "approved, target met"), (.diamond, red, "rejected, missed"),
            (.square, violet, "published"), (.square, amber, "notice submitted"), (.triangle, red, "page"),
            (.circle, green, "acknowledged, removed"), (.tick, red, "deadline"), (.square, grey, "note"),
        ]
        var lx = left
        let ly = axisY + 40
        for (shape, colour, label) in legend {
            svg += shape.svg(x: lx, y: ly, colour: colour, tip: "")
            svg += "<text x=\"\(f(lx + 10))\" y=\"\(f(ly + 4))\" class=\"legend\">\(label)</text>"
            lx += 26 + Double(label.count) * 5.4
        }
        svg += "\n"
        for m in marks {
            svg += m.shape.svg(x: x(m.at), y: y(m.lane), colour: m.colour, tip: "<title>\(escape(m.title))</title>")
        }
        let more = r.noteCount - r.firstNotes.count
        svg += "</svg><figcaption>" + (more > 0 ? "The first \(r.firstNotes.count) notes are drawn, not the \(more) after them. " : "")
            + "Each lane shows the steps of its kind as bars, with a marker for every draft, "
            + "approval, publication, notice, page, acknowledgement, deadline and note (hover for details). Times in "
            + "\(escape(r.summary.timeZone)).</figcaption></figure>\n"
        return svg
    }

    /// A drill's marking in the top and bottom margin of every printed page (CSS page-margin boxes: printed on
    /// each page by the browser, outside the flow, so they never cover the text).
    static var drillPages: String {
        let mark = ReportDocument.drillMarking.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"")
        let box = "content: \"\(mark)\"; font: 700 8pt system-ui, Arial, sans-serif; color: #92400e;"
        return """

            @page { @top-center { \(box) } @bottom-center { \(box) } }

            """
    }

    static let css = """

        :root { --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; --head: #f1f5f9; --accent: #1e3a8a;
          --good: #15803d; --bad: #b91c1c; --drill: #92400e; --drill-bg: #fef3c7; }
        * { box-sizing: border-box; }
        html { -webkit-text-size-adjust: 100%; }
        body { margin: 0; color: var(--ink); background: #fff;
          font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
        main { max-width: 1060px; margin: 0 auto; padding: 24px 32px 48px; }
        .banner { background: var(--drill-bg); color: var(--drill); border-bottom: 2px solid #f59e0b;
          font-weight: 700; letter-spacing: .02em; text-align: center; padding: 8px 16px; }
        .banner.bottom { border-top: 2px solid #f59e0b; border-bottom: 0; }
        header.title { border-bottom: 3px solid var(--accent); padding-bottom: 12px; margin-bottom: 8px; }
        h1 { font-size: 26px; line-height: 1.25; margin: 8px 0 4px; overflow-wrap: anywhere; }
        header.title p { margin: 0; color: var(--muted); }
        h2 { font-size: 19px; margin: 32px 0 12px; padding-bottom: 4px; border-bottom: 1px solid var(--line);
          color: var(--accent); }
        h2 .n { display: inline-block; min-width: 1.6em; color: var(--muted); font-weight: 600; }
        h2 .tag { font-size: 11px; vertical-align: middle; background: var(--drill-bg); color: var(--drill);
          border: 1px solid #f59e0b; border-radius: 3px; padding: 1px 6px; margin-left: 8px; letter-spacing: .05em; }
        h3 { font-size: 16px; margin: 22px 0 8px; overflow-wrap: anywhere; }
        h4 { font-size: 13px; margin: 16px 0 6px; color: #334155; text-transform: none; }
        p { margin: 8px 0; }
        p.muted { color: var(--muted); font-style: italic; }
        p.bad { color: var(--bad); font-weight: 600; }
        table { border-collapse: collapse; width: 100%; margin: 6px 0 14px; font-size: 13px; }
        th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid var(--line);
          overflow-wrap: break-word; white-space: pre-wrap; }
        td.time { white-space: nowrap; }
        thead th { background: var(--head); font-weight: 600; border-bottom: 1px solid #cbd5e1; white-space: nowrap; }
        table.facts th { width: 170px; color: #334155; font-weight: 600; background: transparent; }
        table.log td:nth-child(1) { width: 48px; text-align: right; }
        table.log td:nth-child(2) { width: 56px; }
        table.log td:nth-child(3) { width: 170px; }
        td.code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace;
          font-size: 12px; }
        td.good { color: var(--good); font-weight: 600; }
        td.bad { color: var(--bad); font-weight: 600; }
        td.muted { color: var(--muted); }
        figure { margin: 0; }
        figure.statement { margin: 6px 0 12px; }
        figure.statement figcaption { font-size: 12px; color: var(--muted); margin-bottom: 2px; }
        blockquote { margin: 0; padding: 10px 14px; background: #f8fafc; border-left: 4px solid #93c5fd;
          white-space: pre-wrap; overflow-wrap: anywhere; }
        figure.chart { margin: 16px 0 8px; border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
        figure.chart svg { width: 100%; height: auto; display: block; }
        figure.chart figcaption { font-size: 12px; color: var(--muted); margin: 6px 4px 0; }
        svg text { font: 11px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: #334155; }
        svg text.lane { font-weight: 600; }
        svg text.legend { fill: var(--muted); font-size: 10px; }
        svg text.tick { fill: var(--muted); text-anchor: middle; }
        svg text.tick.start { text-anchor: start; }
        svg text.tick.end { text-anchor: end; }
        svg line.axis { stroke: #94a3b8; }
        svg line.grid { stroke: #e2e8f0; }
        footer.end { margin-top: 32px; border-top: 1px solid var(--line); color: var(--muted); font-size: 12px; }
        @page { size: A4; margin: 18mm 14mm 18mm;
          @bottom-right { content: counter(page) " / " counter(pages); font: 8pt system-ui, Arial, sans-serif;
            color: #64748b; } }
        @media print {
          body { font-size: 11px; }
          main { max-width: none; padding: 0; }
          .banner { display: none; }
          h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
          table, figure { break-inside: auto; }
          tr, blockquote, figure.chart { break-inside: avoid; page-break-inside: avoid; }
          thead { display: table-header-group; }
          table.facts, figure.statement { break-inside: avoid; page-break-inside: avoid; }
          a { color: inherit; text-decoration: none; }
        }
        """
}
