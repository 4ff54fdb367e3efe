import Foundation

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
        return members.first(where: { CanonicalJSON.sameBytes($0.0, key) })?.1
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
    /// Byte equality of two strings' UTF-8 (not Swift's `==`, which compares canonical equivalents equal),
    /// without the generic element-by-element walk.
    static func sameBytes(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in x.count == y.count && (x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0) }
        }
    }

    /// Whether `bytes` are the UTF-8 of `text`.
    public static func sameBytes(_ bytes: ArraySlice<UInt8>, _ text: String) -> Bool {
        var text = text
        return text.withUTF8 { y in
            bytes.withUnsafeBufferPointer { x in
                x.count == y.count && (x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0)
            }
        }
    }

    /// Byte equality of two byte runs, by `memcmp` (the generic `elementsEqual` walks them a byte at a time).
    @inline(__always)
    public static func sameBytes(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
        }
    }

    /// `sameBytes` of a byte run and a static string's UTF-8.
    @inline(__always)
    static func sameBytes(_ a: ArraySlice<UInt8>, _ b: StaticString) -> Bool {
        guard a.count == b.utf8CodeUnitCount else { return false }
        if a.isEmpty { return true }
        return a.withUnsafeBufferPointer { x in memcmp(x.baseAddress!, b.utf8Start, x.count) == 0 }
    }

    /// Largest magnitude of an integer: 2^53 − 1 (exactly representable as an IEEE 754 double).
    public static let maxSafeInteger: Int64 = 9_007_199_254_740_991
    /// Deepest nesting of arrays and objects accepted by `encode` and `decode`.
    public static let maxDepth = 64

    /// Encodes `value` canonically. Throws for a member name outside `[a-z0-9_]+`, a duplicate member name,
    /// an integer outside ±(2^53−1), a string containing NUL, or nesting deeper than `maxDepth`.
    public static func encode(_ value: CanonicalValue) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        try encode(value, into: &out)
        return out
    }

    /// Appends the canonical bytes of `value` to `out` (on error, `out` holds a partial encoding).
    public static func encode(_ value: CanonicalValue, into out: inout [UInt8]) throws {
        var path = JSONPath()
        try encode(value, into: &out, path: &path)
    }

    /// Where a value sits while encoding or decoding, spelled out only for an error (`$.body.fields[2]`), so
    /// no path text is built for the values that are fine.
    struct JSONPath {
        enum Component {
            case member(String)
            case index(Int)
        }

        var components: [Component] = []

        var text: String {
            var s = "$"
            for c in components {
                switch c {
                case .member(let name): s += "." + name
                case .index(let i): s += "[\(i)]"
                }
            }
            return s
        }
    }

    private static func fail(_ path: JSONPath, _ message: String) -> CanonicalJSONError {
        CanonicalJSONError(offset: nil, path: path.text, message: message)
    }

    private static let nullBytes: [UInt8] = Array("null".utf8)
    private static let trueBytes: [UInt8] = Array("true".utf8)
    private static let falseBytes: [UInt8] = Array("false".utf8)

    /// Appends the decimal digits of `i` (no range check: for counters and sequence numbers).
    public static func appendInteger(_ i: Int64, into out: inout [UInt8]) {
        if i < 0 { out.append(UInt8(ascii: "-")) }
        var m = i.magnitude
        if m < 10 {
            out.append(0x30 + UInt8(m))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            while m > 0 {
                buf[n] = 0x30 + UInt8(m % 10)
                m /= 10
                n += 1
            }
            while n > 0 {
                n -= 1
                out.append(buf[n])
            }
        }
    }

    private static func encode(_ value: CanonicalValue, into out: inout [UInt8], path: inout JSONPath) throws {
        switch value {
        case .null: out.append(contentsOf: nullBytes)
        case .bool(let b): out.append(contentsOf: b ? trueBytes : falseBytes)
        case .integer(let i):
            guard i >= -maxSafeInteger, i <= maxSafeInteger else {
                throw fail(path, "integer \(i) is outside ±(2^53−1)")
            }
            appendInteger(i, into: &out)
        case .string(let s):
            try encodeString(s, into: &out, path: path)
        case .array(let items):
            guard path.components.count < maxDepth else { throw fail(path, "nesting deeper than \(maxDepth)") }
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                path.components.append(.index(i))
                try encode(item, into: &out, path: &path)
                path.components.removeLast()
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            guard path.components.count < maxDepth else { throw fail(path, "nesting deeper than \(maxDepth)") }
            var sorted = true
            for (i, (name, _)) in members.enumerated() {
                guard isValidMemberName(name.utf8) else {
                    throw fail(path, "member name \(debugQuoted(name)) is not ASCII [a-z0-9_]+")
                }
                if i > 0 && !members[i - 1].0.utf8.lexicographicallyPrecedes(name.utf8) { sorted = false }
            }
            // UTF-16 code unit order equals byte order for ASCII names.
            let order = sorted ? Array(members.indices) : members.indices.sorted {
                members[$0].0.utf8.lexicographicallyPrecedes(members[$1].0.utf8)
            }
            out.append(UInt8(ascii: "{"))
            for (i, index) in order.enumerated() {
                let (name, member) = members[index]
                if i > 0 {
                    guard !members[order[i - 1]].0.utf8.elementsEqual(name.utf8) else {
                        throw fail(path, "duplicate member name \"\(name)\"")
                    }
                    out.append(UInt8(ascii: ","))
                }
                out.append(UInt8(ascii: "\""))
                out.append(contentsOf: name.utf8)
                out.append(UInt8(ascii: "\""))
                out.append(UInt8(ascii: ":"))
                path.components.append(.member(name))
                try encode(member, into: &out, path: &path)
                path.components.removeLast()
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func isValidMemberName(_ bytes: some Collection<UInt8>) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }

    private static func debugQuoted(_ s: String) -> String {
        var r = "\""
        for scalar in s.unicodeScalars { r += scalar.escaped(asASCII: true) }
        return r + "\""
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func encodeString(_ s: String, into out: inout [UInt8], path: JSONPath) throws {
        out.append(UInt8(ascii: "\""))
        // Most strings need no escape: copy them whole.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            out.append(contentsOf: s.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
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
        let value = try parser.parseValue()
        guard parser.pos == bytes.count else {
            throw parser.fail("trailing bytes after the value")
        }
        return value
    }

    /// Checks that `bytes` are canonical JSON holding an object, exactly as `decode` would (the same rules, by
    /// the same parser), without building the values, and returns where each top-level member's value lies.
    /// Throws the error `decode` throws. For readers that need a few members of many records.
    public static func members(_ bytes: [UInt8]) throws -> CanonicalMembers {
        var parser = Parser(bytes: bytes, build: false)
        do {
            guard parser.peek() == UInt8(ascii: "{") else { throw parser.fail("not an object") }
            try parser.skipValue(depth: 0)
            guard parser.pos == bytes.count else { throw parser.fail("trailing bytes after the value") }
        } catch {
            // Without values the parser keeps no path: decode again for the error with its path.
            _ = try decode(bytes)
            throw error
        }
        return CanonicalMembers(bytes: bytes, members: parser.top)
    }

    private struct Parser {
        let bytes: [UInt8]
        var pos = 0
        var path = JSONPath()
        /// False for the checking walk (`skipValue`): `parseString` then builds no string.
        let build: Bool
        /// After `skipValue`: the top-level object's members, name and value ranges.
        var top: [(name: Range<Int>, value: Range<Int>)] = []

        init(bytes: [UInt8], build: Bool = true) {
            self.bytes = bytes
            self.build = build
        }

        func fail(_ message: String) -> CanonicalJSONError {
            CanonicalJSONError(offset: pos, path: path.text, message: message)
        }

        func peek() -> UInt8? { pos < bytes.count ? bytes[pos] : nil }

        mutating func expectLiteral(_ literal: StaticString, _ value: CanonicalValue) throws -> CanonicalValue {
            try scanLiteral(literal)
            return value
        }

        mutating func scanLiteral(_ literal: StaticString) throws {
            for byte in literal.description.utf8 {
                guard peek() == byte else { throw fail("invalid literal (expected \(literal))") }
                pos += 1
            }
        }

        // The checking walk `members` takes: the same rules as the parse* functions, by the same scanners for
        // strings, integers and literals, but no values built (CanonicalValue is indirect, so every value built
        // is an allocation) and no path kept (an error is found again by `decode`, for its path). `top` gets
        // the top-level object's member ranges.

        mutating func skipValue(depth: Int) throws {
            guard let c = peek() else { throw fail("unexpected end of input") }
            switch c {
            case UInt8(ascii: "{"): try skipObject(depth: depth)
            case UInt8(ascii: "["): try skipArray(depth: depth)
            case UInt8(ascii: "\""): _ = try parseString()
            case UInt8(ascii: "t"): try scanLiteral("true")
            case UInt8(ascii: "f"): try scanLiteral("false")
            case UInt8(ascii: "n"): try scanLiteral("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try scanInteger()
            case 0x20, 0x09, 0x0A, 0x0D: throw fail("whitespace is not canonical")
            default: throw fail("unexpected byte 0x\(String(c, radix: 16))")
            }
        }

        mutating func skipArray(depth: Int) throws {
            guard depth < CanonicalJSON.maxDepth else { throw fail("nesting deeper than \(CanonicalJSON.maxDepth)") }
            pos += 1
            if peek() == UInt8(ascii: "]") {
                pos += 1
                return
            }
            while true {
                try skipValue(depth: depth + 1)
                guard let c = peek() else { throw fail("unterminated array") }
                pos += 1
                if c == UInt8(ascii: "]") { return }
                guard c == UInt8(ascii: ",") else {
                    pos -= 1
                    throw fail("expected ',' or ']'")
                }
            }
        }

        mutating func skipObject(depth: Int) throws {
            guard depth < CanonicalJSON.maxDepth else { throw fail("nesting deeper than \(CanonicalJSON.maxDepth)") }
            pos += 1
            if peek() == UInt8(ascii: "}") {
                pos += 1
                return
            }
            var previous: Range<Int>?
            while true {
                let range = try scanMemberName(after: previous)
                previous = range
                pos += 1
                guard peek() == UInt8(ascii: ":") else { throw fail("expected ':'") }
                pos += 1
                let valueStart = pos
                try skipValue(depth: depth + 1)
                if depth == 0 { top.append((range, valueStart..<pos)) }
                guard let c = peek() else { throw fail("unterminated object") }
                pos += 1
                if c == UInt8(ascii: "}") { return }
                guard c == UInt8(ascii: ",") else {
                    pos -= 1
                    throw fail("expected ',' or '}'")
                }
            }
        }

        /// A member name at `pos` (left on its closing quote): `[a-z0-9_]+`, after `previous` in byte order.
        /// Returns the name's range, quotes excluded.
        mutating func scanMemberName(after previous: Range<Int>?) throws -> Range<Int> {
            let nameStart = pos
            guard peek() == UInt8(ascii: "\"") else { throw fail("expected a member name") }
            pos += 1
            while let c = peek(), c != UInt8(ascii: "\"") { pos += 1 }
            guard peek() == UInt8(ascii: "\"") else { throw fail("unterminated member name") }
            let range = (nameStart + 1)..<pos
            let name = bytes[range]
            guard CanonicalJSON.isValidMemberName(name) else {
                pos = nameStart
                throw fail("member name is not ASCII [a-z0-9_]+")
            }
            if let previous {
                if bytes[previous].elementsEqual(name) {
                    pos = nameStart
                    throw fail("duplicate member name \"\(String(decoding: name, as: UTF8.self))\"")
                }
                if !bytes[previous].lexicographicallyPrecedes(name) {
                    pos = nameStart
                    throw fail("member \"\(String(decoding: name, as: UTF8.self))\" is out of order")
                }
            }
            return range
        }

        mutating func parseValue() throws -> CanonicalValue {
            guard let c = peek() else { throw fail("unexpected end of input") }
            switch c {
            case UInt8(ascii: "{"): return try parseObject()
            case UInt8(ascii: "["): return try parseArray()
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): return try expectLiteral("true", .bool(true))
            case UInt8(ascii: "f"): return try expectLiteral("false", .bool(false))
            case UInt8(ascii: "n"): return try expectLiteral("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseInteger()
            case 0x20, 0x09, 0x0A, 0x0D: throw fail("whitespace is not canonical")
            default: throw fail("unexpected byte 0x\(String(c, radix: 16))")
            }
        }

        mutating func parseInteger() throws -> CanonicalValue {
            .integer(try scanInteger())
        }

        mutating func scanInteger() throws -> Int64 {
            let start = pos
            var negative = false
            if peek() == UInt8(ascii: "-") {
                negative = true
                pos += 1
            }
            guard let first = peek(), first >= 0x30, first <= 0x39 else { throw fail("a digit must follow '-'") }
            var magnitude: Int64 = 0
            var digits = 0
            while let d = peek(), d >= 0x30, d <= 0x39 {
                if digits == 1 && first == 0x30 {
                    pos = start
                    throw fail("leading zero is not canonical")
                }
                magnitude = magnitude * 10 + Int64(d - 0x30)
                digits += 1
                pos += 1
                if magnitude > CanonicalJSON.maxSafeInteger {
                    pos = start
                    throw fail("integer outside ±(2^53−1)")
                }
            }
            if let c = peek(), c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                throw fail("fractions and exponents are not allowed (integers only)")
            }
            if negative && magnitude == 0 {
                pos = start
                throw fail("-0 is not canonical")
            }
            return negative ? -magnitude : magnitude
        }

        mutating func parseArray() throws -> CanonicalValue {
            guard path.components.count < CanonicalJSON.maxDepth else {
                throw fail("nesting deeper than \(CanonicalJSON.maxDepth)")
            }
            pos += 1
            var items: [CanonicalValue] = []
            if peek() == UInt8(ascii: "]") {
                pos += 1
                return .array(items)
            }
            var count = 0
            while true {
                path.components.append(.index(count))
                items.append(try parseValue())
                count += 1
                path.components.removeLast()
                guard let c = peek() else { throw fail("unterminated array") }
                pos += 1
                if c == UInt8(ascii: "]") { return .array(items) }
                guard c == UInt8(ascii: ",") else {
                    pos -= 1
                    throw fail("expected ',' or ']'")
                }
            }
        }

        mutating func parseObject() throws -> CanonicalValue {
            guard path.components.count < CanonicalJSON.maxDepth else {
                throw fail("nesting deeper than \(CanonicalJSON.maxDepth)")
            }
            pos += 1
            var members: [(String, CanonicalValue)] = []
            var previous: Range<Int>?
            if peek() == UInt8(ascii: "}") {
                pos += 1
                return .object(members)
            }
            while true {
                let range = try scanMemberName(after: previous)
                let nameText = String(decoding: bytes[range], as: UTF8.self)
                previous = range
                pos += 1
                path.components.append(.member(nameText))
                guard peek() == UInt8(ascii: ":") else { throw fail("expected ':'") }
                pos += 1
                let value = try parseValue()
                path.components.removeLast()
                members.append((nameText, value))
                guard let c = peek() else { throw fail("unterminated object") }
                pos += 1
                if c == UInt8(ascii: "}") { return .object(members) }
                guard c == UInt8(ascii: ",") else {
                    pos -= 1
                    throw fail("expected ',' or '}'")
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

        mutating func parseString() throws -> String {
            pos += 1
            // Fast path: no escape, so the string is the bytes between the quotes (validated as it goes).
            let start = pos
            while pos < bytes.count {
                // A run of plain ASCII, scanned without bounds checks.
                pos = bytes.withUnsafeBufferPointer { b in
                    var i = pos
                    while i < b.count {
                        let c = b[i]
                        if c == 0x22 || c == 0x5C || c < 0x20 || c >= 0x80 { break }
                        i += 1
                    }
                    return i
                }
                guard pos < bytes.count else { break }
                let c = bytes[pos]
                if c == UInt8(ascii: "\"") {
                    let s = build ? String(decoding: bytes[start..<pos], as: UTF8.self) : ""
                    pos += 1
                    return s
                }
                if c == UInt8(ascii: "\\") || c < 0x20 { break }
                pos += try utf8SequenceLength(at: pos)
            }
            var out: [UInt8] = Array(bytes[start..<pos])
            while true {
                guard let c = peek() else { throw fail("unterminated string") }
                switch c {
                case UInt8(ascii: "\""):
                    pos += 1
                    // Already validated scalar by scalar below.
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard pos + 1 < bytes.count else { throw fail("unterminated escape") }
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
                        else { throw fail("\\u escape is not canonical (only lowercase \\u00xx for controls)") }
                        let v = hi << 4 | lo
                        guard v < 0x20, v != 0x00, ![0x08, 0x09, 0x0A, 0x0C, 0x0D].contains(v) else {
                            throw fail(v == 0 ? "string contains NUL" : "\\u escape is not canonical (use the raw character or a short escape)")
                        }
                        out.append(v)
                        pos += 6
                        continue
                    default:
                        throw fail("escape \\\(String(UnicodeScalar(e))) is not canonical")
                    }
                    pos += 2
                case 0x00..<0x20:
                    throw fail("raw control character 0x\(String(c, radix: 16)) must be escaped")
                case 0x20..<0x80:
                    out.append(c)
                    pos += 1
                default:
                    let n = try utf8SequenceLength(at: pos)
                    out.append(contentsOf: bytes[pos..<(pos + n)])
                    pos += n
                }
            }
        }

        /// Validates one multi-byte UTF-8 sequence at `at` (RFC 3629: no overlongs, no surrogates, ≤ U+10FFFF).
        func utf8SequenceLength(at i: Int) throws -> Int {
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
            guard ok else { throw fail("invalid UTF-8") }
            return n
        }
    }
}

/// The top-level members of a record checked by `CanonicalJSON.members`: each value's bytes, decoded on demand.
public struct CanonicalMembers: Sendable {
    /// The whole object.
    public let bytes: [UInt8]
    /// Each member's name and value as byte ranges of `bytes`, in order.
    public let members: [(name: Range<Int>, value: Range<Int>)]

    /// The bytes of member `name`'s value (canonical JSON themselves), or nil.
    public func range(_ name: String) -> Range<Int>? {
        members.first { CanonicalJSON.sameBytes(bytes[$0.name], name) }?.value
    }

    /// Member `name`'s string, as `CanonicalValue.stringValue` gives it: nil when it is missing or not a string.
    public func string(_ name: String) -> String? {
        if let plain = plainString(name) { return String(decoding: plain, as: UTF8.self) }
        return self[name]?.stringValue
    }

    /// Whether member `name` is the string `expected`, byte for byte (false when it is missing or not a string).
    public func string(_ name: String, is expected: String) -> Bool {
        if let plain = plainString(name) { return CanonicalJSON.sameBytes(plain, expected) }
        guard let value = self[name]?.stringValue else { return false }
        return CanonicalJSON.sameBytes(value, expected)
    }

    /// Member `name` decoded (it was checked already), or nil.
    public subscript(name: String) -> CanonicalValue? {
        guard let r = range(name) else { return nil }
        return try? CanonicalJSON.decode(Array(bytes[r]))
    }

    /// Member `name` when it is a string without escapes (its bytes between the quotes), else nil.
    public func plainString(_ name: String) -> ArraySlice<UInt8>? {
        guard let r = range(name), r.count >= 2, bytes[r.lowerBound] == 0x22 else { return nil }
        let inner = bytes[(r.lowerBound + 1)..<(r.upperBound - 1)]
        return inner.contains(0x5C) ? nil : inner
    }

    /// Member `name` when it is an integer, else nil.
    public func integer(_ name: String) -> Int64? {
        guard let r = range(name) else { return nil }
        return Self.integer(bytes, r)
    }

    /// The integer written in `bytes[r]` (checked canonical already: an optional minus and at most 16 digits),
    /// else nil.
    static func integer(_ bytes: [UInt8], _ r: Range<Int>) -> Int64? {
        guard !r.isEmpty else { return nil }
        var i = r.lowerBound
        let negative = bytes[i] == 0x2D
        if negative { i += 1 }
        guard i < r.upperBound else { return nil }
        var value: Int64 = 0
        while i < r.upperBound {
            let d = bytes[i]
            guard d >= 0x30, d <= 0x39 else { return nil }
            value = value * 10 + Int64(d - 0x30)
            i += 1
        }
        return negative ? -value : value
    }
}
