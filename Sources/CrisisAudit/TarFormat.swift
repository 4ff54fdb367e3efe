import Foundation

/// The POSIX ustar archive format (IEEE Std 1003.1, "pax" utility, ustar Interchange Format), restricted to what a
/// bundle needs: regular files and folders, names of at most 255 bytes, sizes below 8 GiB. `crisis export --format
/// bundle -o NAME.tar` writes one; `crisis verify NAME.tar` reads it back strictly (`TarReader`).
///
/// A header is one 512-byte block: name (100), mode (8), uid (8), gid (8), size (12), mtime (12), checksum (8),
/// typeflag (1), linkname (100), magic `ustar\0` (6), version `00` (2), uname (32), gname (32), devmajor (8),
/// devminor (8), prefix (155), 12 bytes of padding. Numbers are octal, NUL-terminated. The checksum is the sum of
/// the header's bytes with the checksum field counted as spaces, written `%06o\0 `. File data follows in 512-byte
/// blocks, the last one padded with zeros; two zero blocks end the archive.
public enum TarFormat {
    /// Size of a header and of a data block.
    public static let block = 512
    /// Archives are padded with zero blocks to a multiple of this (20 blocks, as `tar` and Python's tarfile do).
    public static let record = 10240

    /// Why a name cannot be stored in a ustar header.
    public struct NameTooLong: Error, CustomStringConvertible {
        public var name: String
        public var description: String {
            "\(name): too long for a ustar archive (at most 100 bytes after a 155-byte folder part)"
        }
    }

    /// The 512-byte header of a regular file (`isFolder` false) or a folder named `name` (no trailing `/`).
    public static func header(name: String, size: Int, isFolder: Bool, mtime: Int64) throws -> [UInt8] {
        var h = [UInt8](repeating: 0, count: block)
        let full = Array((isFolder ? name + "/" : name).utf8)
        var namePart = full
        var prefix: [UInt8] = []
        if full.count > 100 {
            // Split at a '/' so that the prefix holds at most 155 bytes and the name at most 100.
            guard let cut = full.indices.reversed().first(where: { i in
                full[i] == 0x2F && i <= 155 && full.count - i - 1 <= 100 && full.count - i - 1 > 0
            }) else { throw NameTooLong(name: name) }
            prefix = Array(full[..<cut])
            namePart = Array(full[(cut + 1)...])
        }
        func put(_ bytes: [UInt8], at offset: Int) { for (i, b) in bytes.enumerated() { h[offset + i] = b } }
        func octal(_ value: Int64, width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8) + [0]
        }
        put(namePart, at: 0)
        put(octal(isFolder ? 0o755 : 0o644, width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        put(octal(isFolder ? 0 : Int64(size), width: 12), at: 124)
        put(octal(max(0, mtime), width: 12), at: 136)
        h[156] = isFolder ? 0x35 : 0x30
        put(Array("ustar".utf8) + [0], at: 257)
        put(Array("00".utf8), at: 263)
        put(octal(0, width: 8), at: 329)
        put(octal(0, width: 8), at: 337)
        put(prefix, at: 345)
        put(checksumField(checksum(h)), at: 148)
        return h
    }

    /// The header's checksum: the sum of its bytes, the checksum field counted as eight spaces.
    public static func checksum(_ header: [UInt8]) -> Int {
        var sum = 0
        for (i, b) in header.enumerated() { sum += (148..<156).contains(i) ? 0x20 : Int(b) }
        return sum
    }

    /// The checksum field as written: six octal digits, NUL, space.
    public static func checksumField(_ sum: Int) -> [UInt8] {
        let digits = String(sum, radix: 8)
        return Array((String(repeating: "0", count: max(0, 6 - digits.count)) + digits).utf8) + [0, 0x20]
    }

    /// Zero bytes that pad data of `size` bytes to a whole block.
    public static func padding(_ size: Int) -> Int { (block - size % block) % block }
}

/// Why a tar file was refused: where in it, and what.
public struct TarError: Error, Sendable, CustomStringConvertible {
    /// Byte offset in the archive.
    public var offset: Int
    /// What is wrong.
    public var message: String
    /// True when the file is no ustar archive at all (its first block has no `ustar` magic).
    public var notATar: Bool

    public var description: String { "tar: at byte \(offset): \(message)" }
}

/// Reads a ustar archive strictly and extracts it: every header must carry the ustar magic and version and a
/// correct checksum written as `tar` writes it, only regular files and folders are allowed, every name must stay
/// inside one top folder (no absolute names, no `..` or `.` parts, no duplicates), padding and the end-of-archive
/// blocks must be zeros. A single changed byte in a header, in padding or in the end blocks is therefore refused;
/// a changed byte in a file's data is left to the bundle's manifest. Data is streamed in 64 KiB pieces.
public enum TarReader {
    /// Extracts the archive at `path` into the existing, empty folder `destination` and returns the name of its
    /// single top folder. Throws `TarError`.
    public static func extract(_ path: String, into destination: String) throws -> String {
        guard let input = FileHandle(forReadingAtPath: path) else {
            throw TarError(offset: 0, message: "cannot read \(path): \(String(cString: strerror(errno)))", notATar: true)
        }
        defer { try? input.close() }
        var offset = 0
        func read(_ count: Int) throws -> [UInt8] {
            let data = try input.read(upToCount: count) ?? Data()
            guard data.count == count else {
                throw TarError(offset: offset + data.count, message: "the archive ends in the middle of a block",
                               notATar: offset == 0)
            }
            offset += count
            return Array(data)
        }
        var top: String?
        var seen = Set<String>()
        var members = 0
        while true {
            let at = offset
            let h = try read(TarFormat.block)
            if h.allSatisfy({ $0 == 0 }) {
                // End of archive: everything from here to the end must be zeros, at least one more block of them.
                var zeros = TarFormat.block
                while let chunk = try input.read(upToCount: 1 << 16), !chunk.isEmpty {
                    if let i = chunk.firstIndex(where: { $0 != 0 }) {
                        throw TarError(offset: offset + (i - chunk.startIndex),
                                       message: "data after the end-of-archive zero block (a damaged header?)",
                                       notATar: false)
                    }
                    offset += chunk.count
                    zeros += chunk.count
                }
                guard zeros >= 2 * TarFormat.block, offset % TarFormat.block == 0 else {
                    throw TarError(offset: offset, message: "the archive does not end with two zero blocks", notATar: false)
                }
                break
            }
            func fail(_ message: String) -> TarError {
                TarError(offset: at, message: "member \(members + 1): \(message)", notATar: false)
            }
            guard Array(h[257..<263]) == Array("ustar".utf8) + [0] else {
                if members == 0 { throw TarError(offset: 0, message: "not a POSIX ustar archive", notATar: true) }
                throw fail("header without the ustar magic (a damaged header, or data where a header belongs)")
            }
            guard Array(h[263..<265]) == Array("00".utf8) else { throw fail("header version is not 00") }
            guard Array(h[148..<156]) == TarFormat.checksumField(TarFormat.checksum(h)) else {
                throw fail("header checksum does not match the header")
            }
            guard let size = octal(h[124..<136]), octal(h[100..<108]) != nil, octal(h[136..<148]) != nil else {
                throw fail("a numeric header field is not octal")
            }
            guard let rawName = String(validating: cString(h[0..<100]), as: UTF8.self),
                let prefix = String(validating: cString(h[345..<500]), as: UTF8.self)
            else { throw fail("the name is not UTF-8") }
            var name = prefix.isEmpty ? rawName : prefix + "/" + rawName
            let type = h[156]
            let isFolder: Bool
            switch type {
            case 0x30, 0x00: isFolder = name.hasSuffix("/")
            case 0x35: isFolder = true
            default:
                let kind = [0x31: "a hard link", 0x32: "a symbolic link", 0x33: "a character device", 0x34: "a block device",
                            0x36: "a FIFO", 0x78: "a pax extended header", 0x67: "a pax global header",
                            0x4C: "a GNU long name"][type] ?? "type '\(Character(Unicode.Scalar(type)))'"
                throw fail("\(name) is \(kind); a bundle archive holds only regular files and folders")
            }
            while name.hasSuffix("/") { name.removeLast() }
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            guard !name.isEmpty, !name.hasPrefix("/"),
                parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && !$0.contains("\0") && !$0.contains("\\") })
            else { throw fail("refused name '\(name)': absolute, empty, or with '.', '..' or '\\' parts") }
            if let top, String(parts[0]) != top { throw fail("\(name) is outside the archive's top folder \(top)/") }
            if top == nil {
                guard isFolder || parts.count > 1 else { throw fail("\(name) is a file outside any folder") }
                top = String(parts[0])
            }
            guard seen.insert(name).inserted else { throw fail("\(name) appears twice") }
            members += 1
            let target = destination + "/" + name
            if isFolder {
                guard size == 0 else { throw fail("folder \(name) has a size") }
                try makeFolder(target, at: at)
                continue
            }
            try makeFolder((target as NSString).deletingLastPathComponent, at: at)
            let fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644)
            guard fd >= 0 else { throw fail("cannot write \(name): \(String(cString: strerror(errno)))") }
            let out = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            var left = size
            while left > 0 {
                let piece = try read(min(left, 1 << 16))
                try out.write(contentsOf: Data(piece))
                left -= piece.count
            }
            try out.close()
            let pad = try read(TarFormat.padding(size))
            guard pad.allSatisfy({ $0 == 0 }) else {
                throw TarError(offset: offset - pad.count, message: "member \(members): padding after \(name) is not zeros",
                               notATar: false)
            }
        }
        guard let top else { throw TarError(offset: 0, message: "the archive is empty", notATar: true) }
        return top
    }

    static func makeFolder(_ path: String, at offset: Int) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw TarError(offset: offset, message: "cannot create \(path)", notATar: false)
        }
    }

    /// The bytes before the first NUL.
    static func cString(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        Array(bytes.prefix { $0 != 0 })
    }

    /// An octal number field: octal digits (leading spaces allowed), then NUL or space terminators only.
    static func octal(_ field: ArraySlice<UInt8>) -> Int? {
        var value = 0
        var digits = 0
        var ended = false
        for b in field.drop(while: { $0 == 0x20 }) {
            if !ended, b >= 0x30, b <= 0x37 {
                value = value * 8 + Int(b - 0x30)
                digits += 1
                guard value < 1 << 40 else { return nil }
            } else if b == 0 || b == 0x20 {
                ended = true
            } else {
                return nil
            }
        }
        return digits > 0 ? value : nil
    }
}
