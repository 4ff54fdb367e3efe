import Foundation
import Testing

@testable import CrisisAudit

private func text(_ v: CanonicalValue) throws -> String {
    String(decoding: try CanonicalJSON.encode(v), as: UTF8.self)
}

private func decodeError(_ s: String) -> CanonicalJSONError? {
    decodeError(Array(s.utf8))
}

private func decodeError(_ b: [UInt8]) -> CanonicalJSONError? {
    do {
        _ = try CanonicalJSON.decode(b)
        return nil
    } catch let e as CanonicalJSONError {
        return e
    } catch {
        return nil
    }
}

private func encodeError(_ v: CanonicalValue) -> CanonicalJSONError? {
    do {
        _ = try CanonicalJSON.encode(v)
        return nil
    } catch let e as CanonicalJSONError {
        return e
    } catch {
        return nil
    }
}

/// SplitMix64: a seeded generator so property cases are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum RandomValues {
    /// Scalars chosen to hit every escaping rule: controls, quotes, backslash, DEL, Latin-1, combining marks,
    /// bidi controls, U+2028, BMP and astral characters.
    static let interesting: [Unicode.Scalar] = [
        "\u{01}", "\u{08}", "\u{09}", "\u{0A}", "\u{0C}", "\u{0D}", "\u{1B}", "\u{1F}", "\"", "\\", "/", " ",
        "\u{7F}", "\u{80}", "\u{E9}", "\u{301}", "\u{202E}", "\u{2028}", "\u{FEFF}", "\u{FFFD}", "\u{20AC}",
        "\u{1F600}", "\u{10FFFF}", "a", "Z", "0",
    ]

    static func string(_ g: inout SplitMix64) -> String {
        var s = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...12, using: &g) {
            if Bool.random(using: &g) {
                s.append(interesting.randomElement(using: &g) ?? "a")
            } else {
                var v: UInt32
                repeat { v = UInt32.random(in: 1...0x10FFFF, using: &g) } while (0xD800...0xDFFF).contains(v)
                s.append(Unicode.Scalar(v) ?? "a")
            }
        }
        return String(s)
    }

    static func key(_ g: inout SplitMix64) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789_")
        return String((0..<Int.random(in: 1...6, using: &g)).map { _ in alphabet.randomElement(using: &g) ?? "a" })
    }

    static func value(_ g: inout SplitMix64, depth: Int = 0) -> CanonicalValue {
        switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &g) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &g))
        case 2:
            let edge: [Int64] = [0, 1, -1, CanonicalJSON.maxSafeInteger, -CanonicalJSON.maxSafeInteger]
            return .integer(Bool.random(using: &g) ? edge.randomElement(using: &g) ?? 0
                : Int64.random(in: -CanonicalJSON.maxSafeInteger...CanonicalJSON.maxSafeInteger, using: &g))
        case 3, 4: return .string(string(&g))
        case 5: return .array((0..<Int.random(in: 0...4, using: &g)).map { _ in value(&g, depth: depth + 1) })
        default:
            var members: [String: CanonicalValue] = [:]
            for _ in 0..<Int.random(in: 0...5, using: &g) { members[key(&g)] = value(&g, depth: depth + 1) }
            return .object(members)
        }
    }
}

@Suite("Canonical JSON (crisis-audit JCS v1)")
struct CanonicalJSONTests {
    @Test("Members are sorted bytewise and output has no whitespace")
    func sortsMembers() throws {
        let v: CanonicalValue = ["b": 1, "a_b": 2, "a": [true, false, nil], "_": "x", "0": -5, "10": 0, "1": [:]]
        #expect(try text(v) == #"{"0":-5,"1":{},"10":0,"_":"x","a":[true,false,null],"a_b":2,"b":1}"#)
    }

    @Test("Strings are escaped exactly as JCS: short escapes, lower-case \\u00xx, everything else raw")
    func escaping() throws {
        #expect(try text(.string("\u{01}\u{1F}\u{0B}")) == #""\u0001\u001f\u000b""#)
        #expect(try text(.string("\u{08}\u{0C}\n\r\t")) == #""\b\f\n\r\t""#)
        #expect(try text(.string("\"\\/")) == #""\"\\/""#)
        #expect(try CanonicalJSON.encode(.string("\u{7F}\u{20AC}\u{1F600}\u{2028}"))
            == [0x22, 0x7F, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80, 0xE2, 0x80, 0xA8, 0x22])
    }

    @Test("RFC 8785 §3.2.2.2 string example and cyberphone non-float vectors")
    func rfc8785Vectors() throws {
        // RFC 8785 input "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/" canonicalises to "€$\u000f\nA'B\"\\\\\"/".
        #expect(try text(.string("\u{20AC}$\u{0F}\nA'B\"\\\\\"/")) == "\"\u{20AC}$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"")
        // cyberphone/json-canonicalization testdata/input/arrays.json -> output/arrays.json
        let arrays: CanonicalValue = [56, ["d": true, "10": nil, "1": []]]
        #expect(try text(arrays) == #"[56,{"1":[],"10":null,"d":true}]"#)
        // testdata/input/unicode.json: unnormalised "A\u030a" stays as is (the key is outside our profile).
        #expect(try CanonicalJSON.encode(["a": "A\u{30A}"]) == Array(#"{"a":"A"#.utf8) + [0xCC, 0x8A] + Array(#""}"#.utf8))
        // The whitespace-laden input form of arrays.json is not canonical and is refused.
        #expect(decodeError("[\n  56,\n  {\n    \"d\": true,\n    \"10\": null,\n    \"1\": [ ]\n  }\n]")?.offset == 1)
        // Its canonical output decodes and re-encodes to the same bytes.
        let canonical = Array(#"[56,{"1":[],"10":null,"d":true}]"#.utf8)
        #expect(try CanonicalJSON.encode(CanonicalJSON.decode(canonical)) == canonical)
    }

    @Test("NFC and NFD spellings stay different bytes and different values")
    func noNormalisation() throws {
        let nfc = CanonicalValue.string("caf\u{E9}")
        let nfd = CanonicalValue.string("cafe\u{301}")
        #expect("caf\u{E9}" == "cafe\u{301}")  // Swift's String == would merge them...
        #expect(nfc != nfd)  // ...the canonical value does not.
        let a = try CanonicalJSON.encode(nfc)
        let b = try CanonicalJSON.encode(nfd)
        #expect(a == [0x22, 0x63, 0x61, 0x66, 0xC3, 0xA9, 0x22])
        #expect(b == [0x22, 0x63, 0x61, 0x66, 0x65, 0xCC, 0x81, 0x22])
        #expect(AuditHash.entry(record: a) != AuditHash.entry(record: b))
        let back = try CanonicalJSON.decode(b)
        #expect(Array(try #require(back.stringValue).utf8) == Array("cafe\u{301}".utf8))
        #expect(try CanonicalJSON.encode(back) == b)
    }

    @Test("Integers within ±(2^53−1) encode; beyond refused")
    func integers() throws {
        #expect(try text(.integer(9_007_199_254_740_991)) == "9007199254740991")
        #expect(try text(.integer(-9_007_199_254_740_991)) == "-9007199254740991")
        #expect(try text(.integer(0)) == "0")
        #expect(encodeError(.integer(9_007_199_254_740_992)) != nil)
        #expect(encodeError(.integer(Int64.min)) != nil)
    }

    @Test("Encoding refuses NUL, bad member names, duplicates and deep nesting, naming the path")
    func encodeRefusals() throws {
        #expect(encodeError(["body": ["text": "a\u{0}b"]])?.path == "$.body.text")
        #expect(encodeError(["Body": 1])?.message.contains("member name") == true)
        #expect(encodeError(["a-b": 1]) != nil)
        #expect(encodeError(["": 1]) != nil)
        #expect(encodeError(["caf\u{E9}": 1]) != nil)
        #expect(encodeError(.object([("a", 1), ("a", 2)]))?.message.contains("duplicate") == true)
        var deep = CanonicalValue.null
        for _ in 0..<CanonicalJSON.maxDepth { deep = .array([deep]) }
        #expect(encodeError(deep) == nil)
        #expect(encodeError(.array([deep])) != nil)
    }

    @Test("Decoding refuses every non-canonical form with the byte offset", arguments: [
        (" {}", 0), ("{\"a\": 1}", 5), ("{\"a\":1 }", 6), ("{\"b\":1,\"a\":2}", 7), ("{\"a\":1,\"a\":2}", 7),
        ("1.0", 1), ("1e3", 1), ("1E3", 1), ("01", 0), ("-0", 0), ("-", 1), ("+1", 0), ("9007199254740992", 0),
        ("-9007199254740992", 0), ("\"\\u0041\"", 1), ("\"\\u000A\"", 1), ("\"\\u000a\"", 1), ("\"\\/\"", 1),
        ("\"\\u0000\"", 1), ("\"\\u001F\"", 1), ("\"\\ud83d\\ude00\"", 1), ("\"\\x\"", 1), ("\"a", 2),
        ("[1,]", 3), ("[1 ,2]", 2), ("tru", 3), ("nul", 3), ("{\"A\":1}", 1), ("{\"a-b\":1}", 1), ("{a:1}", 1),
        ("{\"a\":1}x", 7), ("", 0), ("[", 1), ("{\"a\"1}", 4), ("NaN", 0), ("[-]", 2),
    ] as [(String, Int)])
    func decodeRefusals(input: String, offset: Int) throws {
        let error = try #require(decodeError(input), "accepted \(input)")
        #expect(error.offset == offset, "\(input): \(error)")
    }

    @Test("Decoding refuses invalid UTF-8 and raw control characters", arguments: [
        [0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22],
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0x80, 0x22], [0x22, 0x01, 0x22], [0x22, 0x0A, 0x22],
        [0x22, 0x00, 0x22], [0x22, 0xF0, 0x9F, 0x98, 0x22],
    ] as [[UInt8]])
    func decodeRefusesBadBytes(input: [UInt8]) throws {
        let error = try #require(decodeError(input))
        #expect(error.offset == 1)
    }

    @Test("Decoding errors name the JSON path")
    func decodePaths() throws {
        #expect(decodeError(#"{"a":{"b":[1,01]}}"#)?.path == "$.a.b[1]")
        #expect(decodeError(#"{"a":1,"body":{"z":1,"y":2}}"#)?.path == "$.body")
        #expect(decodeError(#"{"x":["\u0041"]}"#)?.path == "$.x[0]")
    }

    @Test("Decoding refuses nesting deeper than the limit without crashing")
    func deepNesting() throws {
        let deep = Array(repeating: UInt8(ascii: "["), count: 100_000)
        #expect(decodeError(deep)?.message.contains("nesting") == true)
    }

    @Test("Accessors read objects, arrays and scalars")
    func accessors() throws {
        let v = try CanonicalJSON.decode(Array(#"{"a":[1,"x",true,null],"b":{"c":-3}}"#.utf8))
        #expect(v["a"]?[0]?.intValue == 1)
        #expect(v["a"]?[1]?.stringValue == "x")
        #expect(v["a"]?[2]?.boolValue == true)
        #expect(v["a"]?[3]?.isNull == true)
        #expect(v["a"]?[4] == nil)
        #expect(v["b"]?["c"]?.int64Value == -3)
        #expect(v["missing"] == nil)
        #expect(v["a"]?.arrayValue?.count == 4)
        #expect(v.objectMembers?.map(\.0) == ["a", "b"])
        #expect(v == ["b": ["c": -3], "a": [1, "x", true, nil]])  // member order does not matter
    }

    @Test("2,000 random values round-trip byte-exactly")
    func roundTripProperty() throws {
        var g = SplitMix64(state: 20_251_024)
        for _ in 0..<2000 {
            let v = RandomValues.value(&g)
            let bytes = try CanonicalJSON.encode(v)
            let back = try CanonicalJSON.decode(bytes)
            #expect(back == v)
            #expect(try CanonicalJSON.encode(back) == bytes)
        }
    }

    @Test("members accepts exactly what decode accepts (with decode's error) and gives each member's bytes")
    func membersAgreesWithDecode() throws {
        var g = SplitMix64(state: 0x2026_1130)
        var checked = 0
        for _ in 0..<600 {
            var members: [String: CanonicalValue] = [:]
            for _ in 0..<Int.random(in: 0...6, using: &g) { members[RandomValues.key(&g)] = RandomValues.value(&g) }
            let original = try CanonicalJSON.encode(.object(members))
            // The object as it is, then single-byte mutations of it (most of them no longer canonical).
            for n in 0..<8 {
                var bytes = original
                if n > 0, !bytes.isEmpty {
                    let at = Int.random(in: 0..<bytes.count, using: &g)
                    bytes[at] = bytes[at] &+ UInt8.random(in: 1...255, using: &g)
                }
                let decoded: CanonicalValue?
                var decodeFailure: CanonicalJSONError?
                do { decoded = try CanonicalJSON.decode(bytes) } catch let e as CanonicalJSONError {
                    decoded = nil
                    decodeFailure = e
                }
                do {
                    let m = try CanonicalJSON.members(bytes)
                    let value = try #require(decoded, "members accepted what decode refused: \(bytes)")
                    let names = try #require(value.objectMembers).map(\.0)
                    #expect(m.members.map { String(decoding: bytes[$0.name], as: UTF8.self) } == names)
                    for (name, member) in try #require(value.objectMembers) {
                        #expect(m[name] == member)
                        #expect(Array(bytes[try #require(m.range(name))]) == (try CanonicalJSON.encode(member)))
                        #expect(m.integer(name) == member.int64Value)
                        #expect(m.string(name).map { Array($0.utf8) } == member.stringValue.map { Array($0.utf8) })
                    }
                } catch let e as CanonicalJSONError {
                    if let decodeFailure {
                        #expect(e == decodeFailure)
                    } else {
                        // decode accepts it: only a canonical value that is not an object is refused.
                        #expect(decoded?.objectMembers == nil, "members refused an object decode accepts: \(e)")
                    }
                }
                checked += 1
            }
        }
        #expect(checked == 4800)
        #expect(throws: CanonicalJSONError.self) { try CanonicalJSON.members(Array("[1]".utf8)) }
    }

    @Test("Python's json module, an independent encoder, produces the same bytes",
          .enabled(if: PythonRunner.find() != nil, "needs python3"))
    func matchesPython() throws {
        let python = try #require(PythonRunner.find())
        var g = SplitMix64(state: 7)
        var lines: [UInt8] = []
        var expected: [[UInt8]] = []
        for _ in 0..<500 {
            let bytes = try CanonicalJSON.encode(RandomValues.value(&g))
            expected.append(bytes)
            lines += bytes + [0x0A]
        }
        let script = """
            import json, sys
            for line in sys.stdin.buffer.read().split(b"\\n")[:-1]:
                v = json.loads(line.decode("utf-8"))
                sys.stdout.buffer.write(json.dumps(v, ensure_ascii=False, sort_keys=True,
                                                   separators=(",", ":")).encode("utf-8") + b"\\n")
            """
        let out = try PythonRunner.run(python, script: script, arguments: [], stdin: lines)
        let got = out.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map(Array.init)
        #expect(got == expected)
    }
}

/// Runs python3 if it is installed (tests that need it show as skipped otherwise, never as passed).
enum PythonRunner {
    static func find() -> String? {
        for path in ["/usr/bin/python3", "/usr/local/bin/python3", "/opt/homebrew/bin/python3"]
        where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        return nil
    }

    static func run(_ python: String, script: String, arguments: [String], stdin: [UInt8] = []) throws -> [UInt8] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", script] + arguments
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = errors
        try p.run()
        input.fileHandleForWriting.write(Data(stdin))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        if p.terminationStatus != 0 {
            throw PythonFailure(message: String(decoding: err, as: UTF8.self))
        }
        return [UInt8](data)
    }

    struct PythonFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { "python3 failed: \(message)" }
    }
}
