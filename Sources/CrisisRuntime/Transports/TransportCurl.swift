import CCurl
import Foundation

/// What one request through libcurl gave: a status (HTTP status or the last SMTP reply code), the start of the
/// response body, or libcurl's error.
struct CurlReply: Sendable {
    var status: Int?
    var body: [UInt8] = []
    /// The final response's `Retry-After` header as sent (HTTP only).
    var retryAfter: String?
    var error: String?
    var timedOut = false
    var latencyMs: Int64 = 0
}

/// A thin, synchronous wrapper over libcurl's easy interface: HTTP(S) requests and SMTP submissions, each bounded
/// in time. One easy handle per call; no handle is shared between threads.
enum Curl {
    /// Most response bytes kept: the rest is read and dropped.
    static let bodyLimit = 64 * 1024

    private static let initialized: Bool = {
        curl_global_init(3) == CURLE_OK  // CURL_GLOBAL_ALL
    }()

    /// The libcurl version string (`libcurl/7.88.1 OpenSSL/3.0 ...`).
    static var version: String { String(cString: curl_version()) }

    final class Buffers {
        var body: [UInt8] = []
        var retryAfter: String?
        var upload: [UInt8]
        var uploaded = 0
        init(upload: [UInt8]) { self.upload = upload }
    }

    /// One HTTP request. `headers` are `Name: value` lines.
    static func http(method: String, url: String, headers: [String], body: [UInt8]?, timeoutMs: Int64) -> CurlReply {
        perform(url: url, timeoutMs: timeoutMs, upload: []) { h, slists in
            var list: UnsafeMutablePointer<curl_slist>?
            for line in headers + ["Expect:"] { list = curl_slist_append(list, line) }
            slists.append(list)
            _ = crisis_curl_setopt_slist(h, CURLOPT_HTTPHEADER, list)
            _ = crisis_curl_setopt_string(h, CURLOPT_CUSTOMREQUEST, method)
            if let body {
                // COPYPOSTFIELDS copies the bytes at once.
                _ = crisis_curl_setopt_long(h, CURLOPT_POSTFIELDSIZE, body.count)
                let bytes = body.isEmpty ? [0] : body
                bytes.withUnsafeBytes { p in
                    _ = crisis_curl_setopt_pointer(h, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: p.baseAddress))
                }
            }
            _ = crisis_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0)
        }
    }

    /// One SMTP submission of `message` (CRLF lines, headers then body) to `recipients`.
    static func smtp(url: String, starttls: Bool, from: String, recipients: [String], user: String?, password: String?,
                     caFile: String?, message: [UInt8], timeoutMs: Int64) -> CurlReply
    {
        perform(url: url, timeoutMs: timeoutMs, upload: message) { h, slists in
            var rcpt: UnsafeMutablePointer<curl_slist>?
            for r in recipients { rcpt = curl_slist_append(rcpt, "<\(r)>") }
            slists.append(rcpt)
            _ = crisis_curl_setopt_string(h, CURLOPT_MAIL_FROM, "<\(from)>")
            _ = crisis_curl_setopt_slist(h, CURLOPT_MAIL_RCPT, rcpt)
            if starttls { _ = crisis_curl_setopt_long(h, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)) }
            if let user { _ = crisis_curl_setopt_string(h, CURLOPT_USERNAME, user) }
            if let password { _ = crisis_curl_setopt_string(h, CURLOPT_PASSWORD, password) }
            if let caFile { _ = crisis_curl_setopt_string(h, CURLOPT_CAINFO, caFile) }
            _ = crisis_curl_setopt_long(h, CURLOPT_UPLOAD, 1)
        }
    }

    /// One response header line: a status line starts a new response (an interim `100 Continue` has its own
    /// headers), `Retry-After` is kept (at most 100 bytes of it).
    static func header(_ line: [UInt8], into b: Buffers) {
        if line.starts(with: Array("HTTP/".utf8)) {
            b.retryAfter = nil
            return
        }
        let name = Array("retry-after:".utf8)
        guard line.count > name.count, line.count < name.count + 100,
              zip(line, name).allSatisfy({ (65...90).contains($0) ? $0 + 32 == $1 : $0 == $1 }) else { return }
        let value = String(decoding: line.dropFirst(name.count), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        b.retryAfter = value.isEmpty ? nil : value
    }

    private static func perform(url: String, timeoutMs: Int64, upload: [UInt8],
                                configure: (UnsafeMutableRawPointer, inout [UnsafeMutablePointer<curl_slist>?]) -> Void)
        -> CurlReply
    {
        guard initialized, let h = curl_easy_init() else { return CurlReply(error: "libcurl could not start") }
        defer { curl_easy_cleanup(h) }
        var slists: [UnsafeMutablePointer<curl_slist>?] = []
        defer { for s in slists { curl_slist_free_all(s) } }
        let buffers = Buffers(upload: upload)
        let box = Unmanaged.passRetained(buffers)
        defer { box.release() }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        _ = crisis_curl_setopt_string(h, CURLOPT_URL, url)
        _ = crisis_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        _ = crisis_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, Int(max(1, timeoutMs)))
        _ = crisis_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(max(1, timeoutMs)))
        _ = crisis_curl_setopt_string(h, CURLOPT_PROTOCOLS_STR, "http,https,smtp,smtps")
        // A proxy from the environment (https_proxy) is used, never for this machine's own addresses.
        _ = crisis_curl_setopt_string(h, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1")
        _ = crisis_curl_setopt_pointer(h, CURLOPT_WRITEDATA, box.toOpaque())
        _ = crisis_curl_setopt_callback(h, CURLOPT_WRITEFUNCTION) { data, size, count, user in
            let n = size * count
            guard let data, let user else { return n }
            let b = Unmanaged<Buffers>.fromOpaque(user).takeUnretainedValue()
            let keep = min(n, max(0, Curl.bodyLimit - b.body.count))
            if keep > 0 {
                data.withMemoryRebound(to: UInt8.self, capacity: keep) {
                    b.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: keep))
                }
            }
            return n
        }
        _ = crisis_curl_setopt_pointer(h, CURLOPT_HEADERDATA, box.toOpaque())
        _ = crisis_curl_setopt_callback(h, CURLOPT_HEADERFUNCTION) { data, size, count, user in
            let n = size * count
            guard let data, let user else { return n }
            let b = Unmanaged<Buffers>.fromOpaque(user).takeUnretainedValue()
            let line = data.withMemoryRebound(to: UInt8.self, capacity: n) { Array(UnsafeBufferPointer(start: $0, count: n)) }
            Curl.header(line, into: b)
            return n
        }
        _ = crisis_curl_setopt_pointer(h, CURLOPT_READDATA, box.toOpaque())
        _ = crisis_curl_setopt_callback(h, CURLOPT_READFUNCTION) { data, size, count, user in
            guard let data, let user else { return 0 }
            let b = Unmanaged<Buffers>.fromOpaque(user).takeUnretainedValue()
            let n = min(size * count, b.upload.count - b.uploaded)
            if n > 0 {
                b.upload.withUnsafeBytes { src in
                    UnsafeMutableRawPointer(data).copyMemory(from: src.baseAddress! + b.uploaded, byteCount: n)
                }
                b.uploaded += n
            }
            return n
        }
        _ = crisis_curl_setopt_pointer(h, CURLOPT_ERRORBUFFER, errorBuffer)
        configure(h, &slists)
        let start = DispatchTime.now().uptimeNanoseconds
        let code = curl_easy_perform(h)
        var reply = CurlReply()
        reply.latencyMs = Int64((DispatchTime.now().uptimeNanoseconds - start) / 1_000_000)
        var status = 0
        if crisis_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK, status != 0 {
            reply.status = status
        }
        reply.body = buffers.body
        reply.retryAfter = buffers.retryAfter
        if code != CURLE_OK {
            let detail = String(cString: errorBuffer)
            reply.error = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            reply.timedOut = code == CURLE_OPERATION_TIMEDOUT
        }
        return reply
    }
}
