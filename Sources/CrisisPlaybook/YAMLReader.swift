import CrisisCore
import Foundation
internal import CYaml
package import Yams

/// Reads the strict YAML subset playbooks and contacts files are written in (docs/playbook-format.md, "YAML rules").
///
/// Three passes, cheapest first, so hostile input is refused before it can cost anything:
/// 1. bytes: size (1 MiB), UTF-8 validity (a leading BOM is dropped);
/// 2. libyaml events, without building anything: syntax errors, anchors and aliases (a billion-laughs file is
///    refused here, since aliases are never expanded), tags, nesting deeper than 64, duplicate keys, a mapping of
///    more than 10,000 keys: all reported at once, each at its own line and column;
/// 3. only when pass 2 found nothing fatal, Yams composes the node tree (with the `basic` resolver, so no scalar
///    is ever reinterpreted) that the loaders walk, reading every scalar as its raw text.
package enum YAMLReader {
    /// Largest file accepted.
    static let maximumBytes = 1 << 20
    /// Deepest nesting of mappings and sequences accepted.
    static let maximumDepth = 64
    /// Most keys in one mapping. A 1 MiB playbook holds about 7,000 steps, so no valid file comes near it; a file
    /// of tens of thousands of keys is refused here, before the node tree is built.
    static let maximumKeys = 10_000
    /// At most this many diagnostics from pass 2 (a file of a million anchors gets a bounded answer).
    static let maximumDiagnostics = 200

    package struct Document {
        package var root: Node?
        package var diagnostics: [Diagnostic]
    }

    /// Reads a file, refusing one over `maximumBytes` before reading it whole.
    static func read(path: String) -> (bytes: [UInt8]?, diagnostics: [Diagnostic]) {
        let start = SourceLocation(file: path, line: 1, column: 1)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return (nil, [.error(DiagnosticCode.unreadableFile, "no such file", at: start)])
        }
        if isDirectory.boolValue {
            return (nil, [.error(DiagnosticCode.unreadableFile, "is a directory, not a file", at: start)])
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            return (nil, [.error(DiagnosticCode.unreadableFile, "cannot be opened for reading", at: start)])
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maximumBytes + 1) ?? Data()
        } catch {
            return (nil, [.error(DiagnosticCode.unreadableFile, "cannot be read: \(error)", at: start)])
        }
        if data.count > maximumBytes {
            return (nil, [tooLarge(path: path)])
        }
        return ([UInt8](data), [])
    }

    static func tooLarge(path: String) -> Diagnostic {
        .error(
            DiagnosticCode.fileTooLarge, "file is larger than 1 MiB (\(maximumBytes) bytes); split it or trim it",
            at: SourceLocation(file: path, line: 1, column: 1))
    }

    /// Runs passes 1 to 3 over `bytes`.
    package static func parse(bytes input: [UInt8], path: String) -> Document {
        if input.count > maximumBytes { return Document(root: nil, diagnostics: [tooLarge(path: path)]) }
        var bytes = input
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        if let bad = firstInvalidUTF8(bytes) {
            let loc = location(ofByte: bad, in: bytes, path: path)
            let message = bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF])
                ? "file is UTF-16; save it as UTF-8"
                : String(format: "invalid UTF-8 (byte 0x%02X); save the file as UTF-8", bytes[bad])
            return Document(root: nil, diagnostics: [.error(DiagnosticCode.invalidUTF8, message, at: loc)])
        }
        let events = scanEvents(bytes, path: path)
        if events.fatal { return Document(root: nil, diagnostics: events.diagnostics) }
        let text = String(decoding: bytes, as: UTF8.self)
        do {
            let parser = try Parser(yaml: text, resolver: .basic, constructor: .default, encoding: .utf8)
            let root = try parser.singleRoot()
            return Document(root: root, diagnostics: events.diagnostics)
        } catch let error as YamlError {
            return Document(root: nil, diagnostics: events.diagnostics + [diagnostic(for: error, path: path)])
        } catch {
            let d = Diagnostic.error(
                DiagnosticCode.yamlSyntax, "\(error)", at: SourceLocation(file: path, line: 1, column: 1))
            return Document(root: nil, diagnostics: events.diagnostics + [d])
        }
    }

    // MARK: - Pass 1: bytes

    /// Offset of the first byte that is not part of well-formed UTF-8 (overlongs, surrogates and values above
    /// U+10FFFF included), or nil.
    static func firstInvalidUTF8(_ b: [UInt8]) -> Int? {
        var i = 0
        let n = b.count
        while i < n {
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            let length: Int
            var lower: UInt8 = 0x80
            var upper: UInt8 = 0xBF
            switch c {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; upper = 0x9F
            case 0xF0: length = 4; lower = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; upper = 0x8F
            default: return i
            }
            guard i + length <= n else { return i }
            if b[i + 1] < lower || b[i + 1] > upper { return i }
            for k in 2..<max(2, length) where b[i + k] & 0xC0 != 0x80 { return i }
            i += length
        }
        return nil
    }

    /// 1-based line and column (in Unicode scalars, as libyaml counts) of a byte offset.
    static func location(ofByte offset: Int, in b: [UInt8], path: String) -> SourceLocation {
        var line = 1
        var column = 1
        var i = 0
        while i < offset && i < b.count {
            let c = b[i]
            if c == 0x0A {
                line += 1
                column = 1
            } else if c == 0x0D {
                if i + 1 < b.count, b[i + 1] == 0x0A {} else { line += 1; column = 1 }
            } else if c & 0xC0 != 0x80 {
                column += 1
            }
            i += 1
        }
        return SourceLocation(file: path, line: line, column: column)
    }

    // MARK: - Pass 2: libyaml events

    private enum Frame {
        case sequence
        /// A mapping; its keys live in `keySets[index]` so that adding one never copies the set.
        case mapping(index: Int, expectingKey: Bool)
    }

    /// Walks libyaml's event stream without composing a tree. `fatal` means the tree must not be built.
    static func scanEvents(_ bytes: [UInt8], path: String) -> (diagnostics: [Diagnostic], fatal: Bool) {
        var diagnostics: [Diagnostic] = []
        var fatal = false
        func loc(_ m: yaml_mark_t) -> SourceLocation {
            SourceLocation(file: path, line: Int(m.line) + 1, column: Int(m.column) + 1)
        }
        func report(_ code: DiagnosticCode, _ message: String, _ m: yaml_mark_t) {
            if diagnostics.count < maximumDiagnostics { diagnostics.append(.error(code, message, at: loc(m))) }
        }
        // libyaml keeps a pointer to the parser inside the parser (read_handler_data), so the struct must not
        // move between calls: it lives on the heap, never in a Swift variable passed with `&`.
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        parser.initialize(to: yaml_parser_t())
        defer { parser.deallocate() }
        guard yaml_parser_initialize(parser) == 1 else {
            return ([.error(DiagnosticCode.yamlSyntax, "out of memory", at: SourceLocation(file: path, line: 1, column: 1))], true)
        }
        defer { yaml_parser_delete(parser) }
        yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
        bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(parser, buffer.baseAddress, buffer.count)
            var stack: [Frame] = []
            var keySets: [[String: yaml_mark_t]] = []
            var documents = 0
            var event = yaml_event_t()
            while true {
                guard yaml_parser_parse(parser, &event) == 1 else {
                    fatal = true
                    let problem = parser.pointee.problem.map { String(cString: $0) } ?? "invalid YAML"
                    var where_ = loc(parser.pointee.problem_mark)
                    if parser.pointee.error == YAML_READER_ERROR {
                        where_ = location(ofByte: Int(parser.pointee.problem_offset), in: bytes, path: path)
                    }
                    if problem.contains("Maximum nesting level") {
                        diagnostics.append(.error(
                            DiagnosticCode.tooDeep, "nesting deeper than \(maximumDepth) levels", at: where_))
                    } else {
                        var message = problem
                        if let context = parser.pointee.context.map({ String(cString: $0) }) {
                            message = "\(problem) (\(context) at line \(parser.pointee.context_mark.line + 1))"
                        }
                        diagnostics.append(.error(DiagnosticCode.yamlSyntax, message, at: where_))
                    }
                    return
                }
                defer { yaml_event_delete(&event) }
                let type = event.type
                if type == YAML_STREAM_END_EVENT { return }
                if type == YAML_DOCUMENT_START_EVENT {
                    documents += 1
                    if documents > 1 {
                        fatal = true
                        report(DiagnosticCode.yamlSyntax, "only one YAML document per file", event.start_mark)
                        return
                    }
                    if event.data.document_start.tag_directives.start != event.data.document_start.tag_directives.end {
                        report(DiagnosticCode.yamlTag, "%TAG directives are not allowed", event.start_mark)
                    }
                    continue
                }
                if type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT {
                    if case .mapping? = stack.popLast() { _ = keySets.popLast() }
                    continue
                }
                let isNode = type == YAML_SCALAR_EVENT || type == YAML_ALIAS_EVENT
                    || type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT
                guard isNode else { continue }

                // Is this node a mapping key? Flip the parent's expectation at the node's start.
                var isKey = false
                if case .mapping(let index, let expectingKey)? = stack.last {
                    isKey = expectingKey
                    stack[stack.count - 1] = .mapping(index: index, expectingKey: !expectingKey)
                }

                var anchor: UnsafeMutablePointer<yaml_char_t>?
                var tag: UnsafeMutablePointer<yaml_char_t>?
                switch type {
                case YAML_ALIAS_EVENT:
                    fatal = true
                    let name = string(event.data.alias.anchor)
                    report(
                        DiagnosticCode.yamlAlias,
                        "aliases (*\(name)) are not allowed; write the value out in full", event.start_mark)
                case YAML_SCALAR_EVENT:
                    anchor = event.data.scalar.anchor
                    tag = event.data.scalar.tag
                    if isKey, case .mapping(let index, _)? = stack.last {
                        let text = String(
                            decoding: UnsafeBufferPointer(start: event.data.scalar.value, count: event.data.scalar.length),
                            as: UTF8.self)
                        if let first = keySets[index][text] {
                            fatal = true
                            report(
                                DiagnosticCode.duplicateKey,
                                "duplicate key '\(text)' (first defined at line \(first.line + 1), column \(first.column + 1))",
                                event.start_mark)
                        } else if keySets[index].count >= maximumKeys {
                            fatal = true
                            report(
                                DiagnosticCode.tooWide,
                                "a mapping with more than \(maximumKeys) keys; split the file or shorten the list",
                                event.start_mark)
                            return
                        } else {
                            keySets[index][text] = event.start_mark
                        }
                    }
                case YAML_SEQUENCE_START_EVENT:
                    anchor = event.data.sequence_start.anchor
                    tag = event.data.sequence_start.tag
                    stack.append(.sequence)
                case YAML_MAPPING_START_EVENT:
                    anchor = event.data.mapping_start.anchor
                    tag = event.data.mapping_start.tag
                    keySets.append([:])
                    stack.append(.mapping(index: keySets.count - 1, expectingKey: true))
                default:
                    break
                }
                if let anchor {
                    // An anchor alone is harmless, but it only exists to be aliased: refuse it too.
                    fatal = true
                    report(
                        DiagnosticCode.yamlAlias,
                        "anchors (&\(string(anchor))) are not allowed; write the value out in full", event.start_mark)
                }
                if let tag {
                    var name = string(tag)
                    if name.hasPrefix("tag:yaml.org,2002:") { name = "!!" + name.dropFirst("tag:yaml.org,2002:".count) }
                    report(DiagnosticCode.yamlTag, "tags (\(name)) are not allowed", event.start_mark)
                }
                if stack.count > maximumDepth {
                    fatal = true
                    report(DiagnosticCode.tooDeep, "nesting deeper than \(maximumDepth) levels", event.start_mark)
                    return
                }
            }
        }
        if diagnostics.contains(where: { $0.code == DiagnosticCode.yamlTag }) { fatal = true }
        return (diagnostics, fatal)
    }

    private static func string(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String {
        guard let p else { return "" }
        return String(cString: UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self))
    }

    /// Maps a Yams error to a `yaml-syntax` diagnostic at its position.
    static func diagnostic(for error: YamlError, path: String) -> Diagnostic {
        func at(_ mark: Mark?) -> SourceLocation {
            SourceLocation(file: path, line: mark?.line ?? 1, column: mark?.column ?? 1)
        }
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return .error(DiagnosticCode.yamlSyntax, problem, at: at(mark))
        case .duplicatedKeysInMapping(let duplicates, let context):
            return .error(
                DiagnosticCode.duplicateKey, "duplicate key '\(duplicates.joined(separator: "', '"))'",
                at: at(context.mark))
        default:
            return .error(DiagnosticCode.yamlSyntax, "\(error)", at: at(nil))
        }
    }
}
