/// A JSON value in the "crisis-audit JCS v1" profile: objects, arrays, strings, integers, booleans and null.
///
/// There are no floating-point numbers. Object members keep the order they were given in; the encoder sorts
/// them. Equality is byte-exact for strings (`"caf\u{E9}"` and `"cafe\u{301}"` are different values, unlike
/// Swift's `String ==`) and ignores member order for objects.
public indirect enum CanonicalValue: Sendable, Hashable, CustomStringConvertible {
    /// An object. Member names must be ASCII `[a-z0-9_]+` and unique (checked when encoding).
    case object([(String, CanonicalValue)])
    /// An array.
    case array([CanonicalValue])
    /// A string: any Unicode scalars except NUL, kept byte-exact (no normalisation).
    case string(String)
    /// An integer within ±(2^53−1) (checked when encoding).
    case integer(Int64)
    /// `true` or `false`.
    case bool(Bool)
    /// `null`.
    case null

    /// Builds an object from a dictionary (the encoder sorts the members).
    public static func object(_ members: [String: CanonicalValue]) -> CanonicalValue {
        .object(members.map { ($0.key, $0.value) })
    }

    /// Member `key` of an object, or nil (not an object, or no such member).
    public subscript(key: String) -> CanonicalValue? {
        guard case .object(let members) = self else { return nil }
        let wanted = Array(key.utf8)
        return members.first(where: { Array($0.0.utf8) == wanted })?.1
    }

    /// Element `index` of an array, or nil.
    public subscript(index: Int) -> CanonicalValue? {
        guard case .array(let items) = self, items.indices.contains(index) else { return nil }
        return items[index]
    }

    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer, if this is an integer.
    public var int64Value: Int64? {
        if case .integer(let i) = self { return i }
        return nil
    }

    /// The integer as `Int`, if this is an integer.
    public var intValue: Int? {
        if case .integer(let i) = self { return Int(exactly: i) }
        return nil
    }

    /// The boolean, if this is a boolean.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [CanonicalValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The members in their stored order, if this is an object.
    public var objectMembers: [(String, CanonicalValue)]? {
        if case .object(let m) = self { return m }
        return nil
    }

    /// True for `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The canonical JSON text, or a description of why this value cannot be encoded.
    public var description: String {
        do {
            return String(decoding: try CanonicalJSON.encode(self), as: UTF8.self)
        } catch {
            return "<not canonical: \(error)>"
        }
    }

    public static func == (lhs: CanonicalValue, rhs: CanonicalValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            let sa = a.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
            let sb = b.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
            for (x, y) in zip(sa, sb) where !(x.0.utf8.elementsEqual(y.0.utf8) && x.1 == y.1) { return false }
            return true
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(1); hasher.combine(b)
        case .integer(let i): hasher.combine(2); hasher.combine(i)
        case .string(let s): hasher.combine(3); for byte in s.utf8 { hasher.combine(byte) }
        case .array(let a): hasher.combine(4); hasher.combine(a)
        case .object(let m):
            hasher.combine(5)
            hasher.combine(m.count)
            for (k, v) in m.sorted(by: { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }) {
                for byte in k.utf8 { hasher.combine(byte) }
                hasher.combine(v)
            }
        }
    }
}

extension CanonicalValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    /// `"text"` is `.string("text")`; likewise for the other literals.
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: CanonicalValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, CanonicalValue)...) { self = .object(elements) }
    public init(nilLiteral: ()) { self = .null }
}

/// Why a value cannot be encoded, or why bytes are not canonical JSON.
public struct CanonicalJSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset in the input (decoding only).
    public var offset: Int?
    /// JSON path of the offending value, such as `$.body.fields[2]`.
    public var path: String
    /// What is wrong.
    public var message: String

    public var description: String {
        if let offset { return "canonical JSON: \(message) at byte \(offset) (\(path))" }
        return "canonical JSON: \(message) (\(path))"
    }
}

/// The "crisis-audit JCS v1" canonical encoding: RFC 8785 (JCS) restricted to integers, ASCII `[a-z0-9_]+`
/// member names and NUL-free strings, with no Unicode normalisation.
///
/// `encode` produces the one canonical byte sequence of a value; `decode` accepts only such sequences, so
/// `encode(decode(b)) == b` for every `b` that decodes.
public enum CanonicalJSON {
    /// Largest magnitude of an integer: 2^53 − 1 (exactly representable as an IEEE 754 double).
    public static let maxSafeInteger: Int64 = 9_007_199_254_740_991
    /// Deepest nesting of arrays and objects accepted by `encode` and `decode`.
    public static let maxDepth = 64

    /// Encodes `value` canonically. Throws for a member name outside `[a-z0-9_]+`, a duplicate member name,
    /// an integer outside ±(2^53−1), a string containing NUL, or nesting deeper than `maxDepth`.
    public static func encode(_ value: CanonicalValue) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        try encode(value, into: &out, path: "$", depth: 0)
        return out
    }

    private static func fail(_ path: String, _ message: String) -> CanonicalJSONError {
        CanonicalJSONError(offset: nil, path: path, message: message)
    }

    private static func encode(_ value: CanonicalValue, into out: inout [UInt8], path: String, depth: Int) throws {
        switch value {
        case .null: out.append(contentsOf: Array("null".utf8))
        case .bool(let b): out.append(contentsOf: Array((b ? "true" : "false").utf8))
        case .integer(let i):
            guard i >= -maxSafeInteger, i <= maxSafeInteger else {
                throw fail(path, "integer \(i) is outside ±(2^53−1)")
            }
            out.append(contentsOf: Array(String(i).utf8))
        case .string(let s):
            try encodeString(s, into: &out, path: path)
        case .array(let items):
            guard depth < maxDepth else { throw fail(path, "nesting deeper than \(maxDepth)") }
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                try encode(item, into: &out, path: "\(path)[\(i)]", depth: depth + 1)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            guard depth < maxDepth else { throw fail(path, "nesting deeper than \(maxDepth)") }
            var named: [([UInt8], CanonicalValue)] = []
            named.reserveCapacity(members.count)
            for (name, member) in members {
                let bytes = Array(name.utf8)
                guard isValidMemberName(bytes) else {
                    throw fail(path, "member name \(debugQuoted(name)) is not ASCII [a-z0-9_]+")
                }
                named.append((bytes, member))
            }
            // UTF-16 code unit order equals byte order for ASCII names.
            named.sort { $0.0.lexicographicallyPrecedes($1.0) }
            out.append(UInt8(ascii: "{"))
            for (i, (name, member)) in named.enumerated() {
                if i > 0 {
                    guard named[i - 1].0 != name else {
                        throw fail(path, "duplicate member name \"\(String(decoding: name, as: UTF8.self))\"")
                    }
                    out.append(UInt8(ascii: ","))
                }
                out.append(UInt8(ascii: "\""))
                out.append(contentsOf: name)
                out.append(UInt8(ascii: "\""))
                out.append(UInt8(ascii: ":"))
                try encode(member, into: &out, path: path + "." + String(decoding: name, as: UTF8.self),
                           depth: depth + 1)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func isValidMemberName(_ bytes: [UInt8]) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }

    private static func debugQuoted(_ s: String) -> String {
        var r = "\""
        for scalar in s.unicodeScalars { r += scalar.escaped(asASCII: true) }
        return r + "\""
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func encodeString(_ s: String, into out: inout [UInt8], path: String) throws {
        out.append(UInt8(ascii: "\""))
        // Swift strings hold valid Unicode scalars, so their UTF-8 view is valid UTF-8 (no lone surrogates).
        for byte in s.utf8 {
            switch byte {
            case 0x00: throw fail(path, "string contains NUL")
            case 0x22: out.append(0x5C); out.append(0x22)
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x08: out.append(0x5C); out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(0x5C); out.append(UInt8(ascii: "f"))
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            case 0x01..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Decodes canonical bytes. Refuses anything `encode` would not have produced: whitespace, unsorted or
    /// duplicate member names, floats, exponents, leading zeros, `-0`, non-minimal escapes, raw control
    /// characters, NUL, invalid UTF-8, trailing bytes. The error names the byte offset and the JSON path.
    public static func decode(_ bytes: [UInt8]) throws -> CanonicalValue {
        var parser = Parser(bytes: bytes)
        let value = try parser.parseValue(path: "$", depth: 0)
        guard parser.pos == bytes.count else {
            throw parser.fail("trailing bytes after the value", "$")
        }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var pos = 0

        func fail(_ message: String, _ path: String) -> CanonicalJSONError {
            CanonicalJSONError(offset: pos, path: path, message: message)
        }

        func peek() -> UInt8? { pos < bytes.count ? bytes[pos] : nil }

        mutating func expectLiteral(_ literal: String, _ value: CanonicalValue, path: String) throws
            -> CanonicalValue
        {
            for expected in literal.utf8 {
                guard peek() == expected else { throw fail("invalid literal (expected \(literal))", path) }
                pos += 1
            }
            return value
        }

        mutating func parseValue(path: String, depth: Int) throws -> CanonicalValue {
            guard let c = peek() else { throw fail("unexpected end of input", path) }
            switch c {
            case UInt8(ascii: "{"): return try parseObject(path: path, depth: depth)
            case UInt8(ascii: "["): return try parseArray(path: path, depth: depth)
            case UInt8(ascii: "\""): return .string(try parseString(path: path))
            case UInt8(ascii: "t"): return try expectLiteral("true", .bool(true), path: path)
            case UInt8(ascii: "f"): return try expectLiteral("false", .bool(false), path: path)
            case UInt8(ascii: "n"): return try expectLiteral("null", .null, path: path)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseInteger(path: path)
            case 0x20, 0x09, 0x0A, 0x0D: throw fail("whitespace is not canonical", path)
            default: throw fail("unexpected byte 0x\(String(c, radix: 16))", path)
            }
        }

        mutating func parseInteger(path: String) throws -> CanonicalValue {
            let start = pos
            var negative = false
            if peek() == UInt8(ascii: "-") {
                negative = true
                pos += 1
            }
            guard let first = peek(), first >= 0x30, first <= 0x39 else { throw fail("a digit must follow '-'", path) }
            var magnitude: Int64 = 0
            var digits = 0
            while let d = peek(), d >= 0x30, d <= 0x39 {
                if digits == 1 && first == 0x30 {
                    pos = start
                    throw fail("leading zero is not canonical", path)
                }
                magnitude = magnitude * 10 + Int64(d - 0x30)
                digits += 1
                pos += 1
                if magnitude > CanonicalJSON.maxSafeInteger {
                    pos = start
                    throw fail("integer outside ±(2^53−1)", path)
                }
            }
            if let c = peek(), c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                throw fail("fractions and exponents are not allowed (integers only)", path)
            }
            if negative && magnitude == 0 {
                pos = start
                throw fail("-0 is not canonical", path)
            }
            return .integer(negative ? -magnitude : magnitude)
        }

        mutating func parseArray(path: String, depth: Int) throws -> CanonicalValue {
            guard depth < CanonicalJSON.maxDepth else { throw fail("nesting deeper than \(CanonicalJSON.maxDepth)", path) }
            pos += 1
            var items: [CanonicalValue] = []
            if peek() == UInt8(ascii: "]") {
                pos += 1
                return .array(items)
            }
            while true {
                items.append(try parseValue(path: "\(path)[\(items.count)]", depth: depth + 1))
                guard let c = peek() else { throw fail("unterminated array", path) }
                pos += 1
                if c == UInt8(ascii: "]") { return .array(items) }
                guard c == UInt8(ascii: ",") else {
                    pos -= 1
                    throw fail("expected ',' or ']'", path)
                }
            }
        }

        mutating func parseObject(path: String, depth: Int) throws -> CanonicalValue {
            guard depth < CanonicalJSON.maxDepth else { throw fail("nesting deeper than \(CanonicalJSON.maxDepth)", path) }
            pos += 1
            var members: [(String, CanonicalValue)] = []
            var previous: [UInt8]?
            if peek() == UInt8(ascii: "}") {
                pos += 1
                return .object(members)
            }
            while true {
                let nameStart = pos
                guard peek() == UInt8(ascii: "\"") else { throw fail("expected a member name", path) }
                pos += 1
                var name: [UInt8] = []
                while let c = peek(), c != UInt8(ascii: "\"") {
                    name.append(c)
                    pos += 1
                }
                guard peek() == UInt8(ascii: "\"") else { throw fail("unterminated member name", path) }
                guard CanonicalJSON.isValidMemberName(name) else {
                    pos = nameStart
                    throw fail("member name is not ASCII [a-z0-9_]+", path)
                }
                let nameText = String(decoding: name, as: UTF8.self)
                if let previous {
                    if previous == name {
                        pos = nameStart
                        throw fail("duplicate member name \"\(nameText)\"", path)
                    }
                    if !previous.lexicographicallyPrecedes(name) {
                        pos = nameStart
                        throw fail("member \"\(nameText)\" is out of order", path)
                    }
                }
                previous = name
                pos += 1
                guard peek() == UInt8(ascii: ":") else { throw fail("expected ':'", path + "." + nameText) }
                pos += 1
                let value = try parseValue(path: path + "." + nameText, depth: depth + 1)
                members.append((nameText, value))
                guard let c = peek() else { throw fail("unterminated object", path) }
                pos += 1
                if c == UInt8(ascii: "}") { return .object(members) }
                guard c == UInt8(ascii: ",") else {
                    pos -= 1
                    throw fail("expected ',' or '}'", path)
                }
            }
        }

        func hexValue(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }

        mutating func parseString(path: String) throws -> String {
            pos += 1
            var out: [UInt8] = []
            while true {
                guard let c = peek() else { throw fail("unterminated string", path) }
                switch c {
                case UInt8(ascii: "\""):
                    pos += 1
                    // Already validated scalar by scalar below.
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard pos + 1 < bytes.count else { throw fail("unterminated escape", path) }
                    let e = bytes[pos + 1]
                    switch e {
                    case UInt8(ascii: "\""): out.append(0x22)
                    case UInt8(ascii: "\\"): out.append(0x5C)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        // Only \u00xx for control characters without a short escape is canonical.
                        guard pos + 5 < bytes.count, bytes[pos + 2] == 0x30, bytes[pos + 3] == 0x30,
                            let hi = hexValue(bytes[pos + 4]), let lo = hexValue(bytes[pos + 5])
                        else { throw fail("\\u escape is not canonical (only lowercase \\u00xx for controls)", path) }
                        let v = hi << 4 | lo
                        guard v < 0x20, v != 0x00, ![0x08, 0x09, 0x0A, 0x0C, 0x0D].contains(v) else {
                            throw fail(v == 0 ? "string contains NUL" : "\\u escape is not canonical (use the raw character or a short escape)", path)
                        }
                        out.append(v)
                        pos += 6
                        continue
                    default:
                        throw fail("escape \\\(String(UnicodeScalar(e))) is not canonical", path)
                    }
                    pos += 2
                case 0x00..<0x20:
                    throw fail("raw control character 0x\(String(c, radix: 16)) must be escaped", path)
                case 0x20..<0x80:
                    out.append(c)
                    pos += 1
                default:
                    let n = try utf8SequenceLength(at: pos, path: path)
                    out.append(contentsOf: bytes[pos..<(pos + n)])
                    pos += n
                }
            }
        }

        /// Validates one multi-byte UTF-8 sequence at `at` (RFC 3629: no overlongs, no surrogates, ≤ U+10FFFF).
        func utf8SequenceLength(at i: Int, path: String) throws -> Int {
            let b0 = bytes[i]
            func cont(_ k: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
                i + k < bytes.count && bytes[i + k] >= low && bytes[i + k] <= high
            }
            let ok: Bool
            let n: Int
            switch b0 {
            case 0xC2...0xDF: n = 2; ok = cont(1)
            case 0xE0: n = 3; ok = cont(1, 0xA0, 0xBF) && cont(2)
            case 0xE1...0xEC, 0xEE...0xEF: n = 3; ok = cont(1) && cont(2)
            case 0xED: n = 3; ok = cont(1, 0x80, 0x9F) && cont(2)
            case 0xF0: n = 4; ok = cont(1, 0x90, 0xBF) && cont(2) && cont(3)
            case 0xF1...0xF3: n = 4; ok = cont(1) && cont(2) && cont(3)
            case 0xF4: n = 4; ok = cont(1, 0x80, 0x8F) && cont(2) && cont(3)
            default: n = 1; ok = false
            }
            guard ok else { throw fail("invalid UTF-8", path) }
            return n
        }
    }
}
