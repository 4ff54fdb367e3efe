import CrisisCore
import CrisisPlaybook
import Foundation
internal import Yams

/// An installation's transports (`crisis-transports/v1`, docs/transports.md): how each playbook channel leaves the
/// machine. Loaded from `--transports FILE`, else `$CRISIS_TRANSPORTS`, else `$XDG_CONFIG_HOME/crisis/transports.yaml`.
/// Secrets are resolved when the file is loaded, from environment variables or files the file names; their values
/// are kept apart (`secretValues`) so anything written to the trail can be scrubbed of them.
public struct TransportsConfig: Sendable {
    /// The file as given (for messages).
    public var path: String
    /// Transports by name.
    public var transports: [String: TransportSpec]
    /// Playbook channel (`sms`, `email`, `slack`) to its route. A channel not listed stays hand delivery.
    public var channels: [String: ChannelRoute]
    /// Every secret value the file resolved: never written anywhere, scrubbed from what is.
    public var secretValues: [String]

    /// The route of a playbook channel, nil for hand delivery.
    public func route(for channel: String) -> (route: ChannelRoute, spec: TransportSpec)? {
        guard let r = channels[channel], let spec = transports[r.transport] else { return nil }
        return (r, spec)
    }

    /// `text` with every secret value replaced by `[secret]`.
    public func scrub(_ text: String) -> String {
        secretValues.filter { $0.count >= 4 }.reduce(text) { $0.replacingOccurrences(of: $1, with: "[secret]") }
    }

    /// Where the transports file is, by precedence: the option, `$CRISIS_TRANSPORTS`, then
    /// `$XDG_CONFIG_HOME/crisis/transports.yaml` (`~/.config/...` without XDG_CONFIG_HOME). `explicit` is false for
    /// the last one: a missing default file means no transports (everything is handed to a person).
    public static func locate(option: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> (path: String, explicit: Bool)?
    {
        if let option, !option.isEmpty { return (option, true) }
        if let env = environment["CRISIS_TRANSPORTS"], !env.isEmpty { return (env, true) }
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["HOME"].map { $0 + "/.config" }
        guard let base else { return nil }
        return (base + "/crisis/transports.yaml", false)
    }
}

/// Where one playbook channel goes.
public struct ChannelRoute: Sendable, Hashable {
    public var channel: String
    /// The transport's name in `transports:`.
    public var transport: String
    /// How long the outbox keeps retrying a delivery on this channel (the transport's `deadline` unless the
    /// channel sets its own).
    public var deadlineMs: Int64
}

/// How hard the outbox tries: each attempt is bounded by `attemptTimeoutMs`; failed attempts that may succeed
/// later are retried after `backoffMs * 2^(n-1)` (at most `maxBackoffMs`), with jitter, until `deadlineMs` after
/// the first attempt.
public struct RetryPolicy: Sendable, Hashable {
    public var attemptTimeoutMs: Int64 = 10_000
    public var deadlineMs: Int64 = 120_000
    public var backoffMs: Int64 = 1_000
    public var maxBackoffMs: Int64 = 30_000
    public init() {}
}

/// A string from the transports file with `{{to}}`, `{{text}}`, `{{secret:NAME}}`... placeholders, parsed.
public struct TransportTemplate: Sendable, Hashable {
    public enum Part: Sendable, Hashable {
        case literal(String)
        case variable(String)
        case secret(String)
    }
    public var parts: [Part]
    /// The variables a template may use.
    public static let variables = ["to", "name", "text", "subject", "key", "channel", "incident", "step", "purpose"]

    public init(literal: String) { parts = [.literal(literal)] }
    init(parts: [Part]) { self.parts = parts }

    /// Renders with `values` for the variables and `secrets` for the secrets (all resolved when loaded);
    /// `encode` is applied to variable values only (form and URL encoding).
    public func render(_ values: [String: String], secrets: [String: String],
                       encode: (String) -> String = { $0 }) -> String
    {
        parts.map { part in
            switch part {
            case .literal(let s): s
            case .variable(let v): encode(values[v] ?? "")
            case .secret(let n): secrets[n] ?? ""
            }
        }.joined()
    }

    public var usesVariables: Bool { parts.contains { if case .variable = $0 { true } else { false } } }
}

/// One configured transport.
public struct TransportSpec: Sendable {
    public enum WebhookFormat: String, Sendable, CaseIterable { case slack, teams, json }

    public struct Webhook: Sendable {
        public var url: TransportTemplate
        public var format: WebhookFormat
        /// `json` only: the shared secret the body's HMAC-SHA256 signature is made with.
        public var secret: TransportTemplate?
        /// The header that carries `sha256=<hex>` (default `X-Crisis-Signature`).
        public var signatureHeader: String
    }

    public struct HTTP: Sendable {
        public var method: String
        public var url: TransportTemplate
        public var headers: [(name: String, value: TransportTemplate)]
        /// `application/x-www-form-urlencoded` fields, or
        public var form: [(name: String, value: TransportTemplate)]?
        /// a flat JSON object of strings.
        public var json: [(name: String, value: TransportTemplate)]?
    }

    public struct SMTP: Sendable {
        public var host: String
        public var port: Int
        public var starttls: Bool
        /// Implicit TLS from the first byte (`smtps://`, port 465).
        public var tls: Bool
        public var from: String
        public var user: TransportTemplate?
        public var password: TransportTemplate?
        public var subject: TransportTemplate
        /// A CA bundle to trust (a private relay's certificate).
        public var caFile: String?
    }

    public struct Exec: Sendable {
        /// The program and its arguments (each may use placeholders); the message goes to its standard input.
        public var command: [TransportTemplate]
        /// Variables the program gets besides its minimal environment (`PATH`, `HOME`, `LANG`, `LC_ALL`, `TZ`)
        /// and the message's `CRISIS_*`: each value a template, typically `{{secret:NAME}}`. Nothing else of
        /// crisis's own environment reaches the program.
        public var environment: [(name: String, value: TransportTemplate)]
    }

    public enum Kind: Sendable {
        case webhook(Webhook)
        case http(HTTP)
        case smtp(SMTP)
        case exec(Exec)

        public var name: String {
            switch self {
            case .webhook: "webhook"
            case .http: "http"
            case .smtp: "smtp"
            case .exec: "exec"
            }
        }
    }

    public var name: String
    public var kind: Kind
    public var retry: RetryPolicy
    /// Secrets by name, resolved when the file was loaded.
    public var secrets: [String: String]
    /// Where it is defined in the file.
    public var location: SourceLocation
}

/// Reads `crisis-transports/v1` files. Every problem is reported at once, each as `file:line:column`.
public enum TransportsLoader {
    public static let schema = "crisis-transports/v1"

    /// The configuration, or the file's problems (`config` is nil when any is an error).
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> (config: TransportsConfig?, diagnostics: [Diagnostic])
    {
        let at1 = SourceLocation(file: path, line: 1, column: 1)
        guard let data = FileManager.default.contents(atPath: path) else {
            return (nil, [.error(.unreadableFile, "cannot read the transports file \(path)", at: at1)])
        }
        guard data.count <= 1 << 20 else {
            return (nil, [.error(.fileTooLarge, "the transports file is larger than 1 MiB", at: at1)])
        }
        return load(bytes: [UInt8](data), path: path, environment: environment)
    }

    /// The configuration from `bytes`, named `path` in messages.
    public static func load(bytes: [UInt8], path: String,
                            environment: [String: String] = ProcessInfo.processInfo.environment)
        -> (config: TransportsConfig?, diagnostics: [Diagnostic])
    {
        let reader = Reader(file: path, environment: environment)
        let config = reader.read(bytes)
        let diagnostics = Diagnostic.sorted(reader.diagnostics)
        return (diagnostics.hasErrors ? nil : config, diagnostics)
    }

    final class Reader {
        let file: String
        let environment: [String: String]
        var diagnostics: [Diagnostic] = []
        /// `secrets:` entries: name to (env var or file) source.
        var secretSources: [String: (env: String?, file: String?, at: SourceLocation)] = [:]
        var resolved: [String: String] = [:]

        init(file: String, environment: [String: String]) {
            self.file = file
            self.environment = environment
        }

        func loc(_ node: Node) -> SourceLocation {
            SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
        }

        func error(_ code: DiagnosticCode, _ message: String, _ at: SourceLocation) {
            diagnostics.append(.error(code, message, at: at))
        }

        func read(_ bytes: [UInt8]) -> TransportsConfig? {
            // The same hardened reader as playbooks (size, depth, key and alias limits; UTF-8 and syntax errors
            // with their position).
            let document = YAMLReader.parse(bytes: bytes, path: file)
            diagnostics += document.diagnostics
            guard let root = document.root else {
                if !document.diagnostics.hasErrors {
                    error(.missingKey, "the transports file is empty: it needs 'schema: \(schema)'",
                          SourceLocation(file: file, line: 1, column: 1))
                }
                return nil
            }
            guard let top = mapping(root, what: "the transports file") else { return nil }
            checkKeys(top, ["schema", "transports", "channels", "secrets"], what: "the transports file")
            if let s = top["schema"] {
                if let v = scalar(s, what: "schema"), v != schema {
                    error(.unknownSchema, "unknown schema '\(v)': this crisis reads '\(schema)'", loc(s))
                }
            } else {
                error(.missingKey, "missing 'schema: \(schema)'", loc(root))
            }
            if let s = top["secrets"], let m = mapping(s, what: "secrets") {
                for (k, v) in m {
                    guard let name = scalar(k, what: "a secret's name") else { continue }
                    guard let src = mapping(v, what: "secret '\(name)'") else { continue }
                    checkKeys(src, ["env", "file"], what: "secret '\(name)'")
                    let env = src["env"].flatMap { scalar($0, what: "env") }
                    let f = src["file"].flatMap { scalar($0, what: "file") }
                    if (env == nil) == (f == nil) {
                        error(.badValue, "secret '\(name)' needs exactly one of 'env: VARIABLE' or 'file: PATH'", loc(v))
                    }
                    secretSources[name] = (env, f, loc(v))
                }
            }
            var transports: [String: TransportSpec] = [:]
            var declared: [String] = []
            if let t = top["transports"], let m = mapping(t, what: "transports") {
                for (k, v) in m {
                    guard let name = scalar(k, what: "a transport's name") else { continue }
                    declared.append(name)
                    let before = diagnostics.count
                    if let spec = transport(name, v), diagnostics.count == before { transports[name] = spec }
                }
            } else if top["transports"] == nil {
                error(.missingKey, "missing 'transports:'", loc(root))
            }
            var channels: [String: ChannelRoute] = [:]
            if let c = top["channels"], let m = mapping(c, what: "channels") {
                for (k, v) in m {
                    guard let channel = scalar(k, what: "a channel's name") else { continue }
                    var transportName: String?
                    var deadline: Int64?
                    if case .scalar = v {
                        transportName = scalar(v, what: "channel '\(channel)'")
                    } else if let r = mapping(v, what: "channel '\(channel)'") {
                        checkKeys(r, ["transport", "deadline"], what: "channel '\(channel)'")
                        transportName = r["transport"].flatMap { scalar($0, what: "transport") }
                        if r["transport"] == nil {
                            error(.missingKey, "channel '\(channel)' needs 'transport: NAME'", loc(v))
                        }
                        deadline = r["deadline"].flatMap { duration($0, what: "deadline") }
                    }
                    guard let transportName else { continue }
                    guard let spec = transports[transportName] else {
                        if declared.contains(transportName) {
                            error(.badValue, "channel '\(channel)' is mapped to '\(transportName)', whose definition has "
                                  + "errors (see above)", loc(v))
                            continue
                        }
                        let known = declared.sorted()
                        error(.badValue, "channel '\(channel)' is mapped to '\(transportName)', which is no transport "
                              + "in this file (transports: \(known.isEmpty ? "none" : known.joined(separator: ", ")))",
                              loc(v))
                        continue
                    }
                    channels[channel] = ChannelRoute(channel: channel, transport: transportName,
                                                     deadlineMs: deadline ?? spec.retry.deadlineMs)
                }
            }
            return TransportsConfig(path: file, transports: transports, channels: channels,
                                    secretValues: Array(Set(resolved.values)).sorted())
        }

        // MARK: one transport

        func transport(_ name: String, _ node: Node) -> TransportSpec? {
            guard let m = mapping(node, what: "transport '\(name)'") else { return nil }
            let what = "transport '\(name)'"
            guard let typeNode = m["type"] else {
                error(.missingKey, "\(what) needs 'type:' (webhook, http, smtp or exec)", loc(node))
                return nil
            }
            guard let type = scalar(typeNode, what: "type") else { return nil }
            let retryKeys = ["attempt_timeout", "deadline", "backoff", "max_backoff"]
            var retry = RetryPolicy()
            if let v = m["attempt_timeout"].flatMap({ duration($0, what: "attempt_timeout") }) { retry.attemptTimeoutMs = v }
            if let v = m["deadline"].flatMap({ duration($0, what: "deadline") }) { retry.deadlineMs = v }
            if let v = m["backoff"].flatMap({ duration($0, what: "backoff") }) { retry.backoffMs = v }
            if let v = m["max_backoff"].flatMap({ duration($0, what: "max_backoff") }) { retry.maxBackoffMs = v }
            var secrets: [String: String] = [:]
            func tpl(_ key: String, required: Bool = false, variables: Bool = true) -> TransportTemplate? {
                guard let n = m[key] else {
                    if required { error(.missingKey, "\(what) needs '\(key):'", loc(node)) }
                    return nil
                }
                guard let s = scalar(n, what: key) else { return nil }
                return template(s, at: loc(n), variables: variables, secrets: &secrets)
            }
            func pairs(_ key: String) -> [(name: String, value: TransportTemplate)]? {
                guard let n = m[key] else { return nil }
                guard let mm = mapping(n, what: "\(what) \(key)") else { return nil }
                var out: [(name: String, value: TransportTemplate)] = []
                for (k, v) in mm {
                    guard let kn = scalar(k, what: "a name"), let vs = scalar(v, what: kn),
                          let t = template(vs, at: loc(v), variables: true, secrets: &secrets) else { continue }
                    out.append((kn, t))
                }
                return out
            }
            let kind: TransportSpec.Kind
            switch type {
            case "webhook":
                checkKeys(m, ["type", "url", "format", "secret", "signature_header"] + retryKeys, what: what)
                let url = tpl("url", required: true, variables: false)
                if let url, let n = m["url"] { checkURL(url, secrets: secrets, schemes: ["http", "https"], at: loc(n)) }
                var format = TransportSpec.WebhookFormat.json
                if let f = m["format"], let s = scalar(f, what: "format") {
                    if let v = TransportSpec.WebhookFormat(rawValue: s) { format = v } else {
                        error(.badValue, "unknown webhook format '\(s)' (slack, teams or json)", loc(f))
                    }
                }
                let secret = tpl("secret", variables: false)
                if format == .json, secret == nil {
                    error(.missingKey, "\(what): a json webhook needs 'secret:' (\"{{secret:NAME}}\"), the shared "
                          + "key its HMAC-SHA256 signature is made with", loc(node))
                }
                let header = m["signature_header"].flatMap { scalar($0, what: "signature_header") }
                    ?? "X-Crisis-Signature"
                guard let url else { return nil }
                kind = .webhook(.init(url: url, format: format, secret: secret, signatureHeader: header))
            case "http":
                checkKeys(m, ["type", "method", "url", "headers", "form", "json"] + retryKeys, what: what)
                let method = (m["method"].flatMap { scalar($0, what: "method") } ?? "POST").uppercased()
                if !["POST", "PUT", "PATCH", "GET"].contains(method), let n = m["method"] {
                    error(.badValue, "unknown method '\(method)' (POST, PUT, PATCH or GET)", loc(n))
                }
                let url = tpl("url", required: true)
                if let url, let n = m["url"] { checkURL(url, secrets: secrets, schemes: ["http", "https"], at: loc(n)) }
                let form = pairs("form")
                let json = pairs("json")
                if form != nil, json != nil {
                    error(.conflictingKeys, "\(what) has both 'form:' and 'json:': choose one body", loc(node))
                }
                guard let url else { return nil }
                kind = .http(.init(method: method, url: url, headers: pairs("headers") ?? [], form: form, json: json))
            case "smtp":
                checkKeys(m, ["type", "host", "port", "starttls", "tls", "from", "user", "password", "subject",
                              "ca_file"] + retryKeys, what: what)
                let host = m["host"].flatMap { scalar($0, what: "host") }
                if m["host"] == nil { error(.missingKey, "\(what) needs 'host:'", loc(node)) }
                var port = 587
                if let p = m["port"], let s = scalar(p, what: "port") {
                    if let v = Int(s), (1...65535).contains(v) { port = v } else {
                        error(.badValue, "port '\(s)' is not a port number (1-65535)", loc(p))
                    }
                }
                let from = m["from"].flatMap { scalar($0, what: "from") }
                if m["from"] == nil { error(.missingKey, "\(what) needs 'from:' (the sender's address)", loc(node)) }
                let starttls = bool(m, "starttls") ?? true
                let tls = bool(m, "tls") ?? false
                let user = tpl("user", variables: false)
                let password = tpl("password", variables: false)
                if (user == nil) != (password == nil) {
                    error(.missingKey, "\(what): 'user:' and 'password:' go together", loc(node))
                }
                let subject = tpl("subject") ?? TransportTemplate(parts: [
                    .literal("["), .variable("incident"), .literal("] "), .variable("subject"),
                ])
                guard let host, let from else { return nil }
                kind = .smtp(.init(host: host, port: port, starttls: starttls, tls: tls, from: from, user: user,
                                   password: password, subject: subject,
                                   caFile: m["ca_file"].flatMap { scalar($0, what: "ca_file") }))
            case "exec":
                checkKeys(m, ["type", "command", "env"] + retryKeys, what: what)
                var environment: [(name: String, value: TransportTemplate)] = []
                for (k, v) in m["env"].flatMap({ mapping($0, what: "\(what) env") }) ?? [] {
                    guard let name = scalar(k, what: "a variable's name") else { continue }
                    if name.hasPrefix("CRISIS_") {
                        error(.badValue, "'\(name)' is crisis's own: the program gets CRISIS_TO, CRISIS_NAME, "
                              + "CRISIS_CHANNEL, CRISIS_DELIVERY_KEY, CRISIS_INCIDENT, CRISIS_PURPOSE and CRISIS_STEP "
                              + "by itself", loc(k))
                    } else if !Self.isVariableName(name) {
                        error(.badValue, "'\(name)' is not an environment variable name (letters, digits, _; not "
                              + "starting with a digit)", loc(k))
                    }
                    guard let s = scalar(v, what: name),
                          let t = template(s, at: loc(v), variables: true, secrets: &secrets) else { continue }
                    environment.append((name, t))
                }
                guard let c = m["command"] else {
                    error(.missingKey, "\(what) needs 'command: [PROGRAM, ARG...]'", loc(node))
                    return nil
                }
                guard case .sequence(let seq) = c, !seq.isEmpty else {
                    error(.wrongType, "'command' must be a list: [PROGRAM, ARG...]", loc(c))
                    return nil
                }
                var argv: [TransportTemplate] = []
                for n in seq {
                    guard let s = scalar(n, what: "an argument"),
                          let t = template(s, at: loc(n), variables: true, secrets: &secrets) else { continue }
                    argv.append(t)
                }
                if let first = seq.first?.scalar?.string, !first.hasPrefix("/") {
                    error(.badValue, "the program '\(first)' must be an absolute path", loc(seq[0]))
                }
                kind = .exec(.init(command: argv, environment: environment))
            default:
                let suggestion = EditDistance.suggestion(for: type, among: ["webhook", "http", "smtp", "exec"])
                    .map { " (did you mean '\($0)'?)" } ?? ""
                error(.badValue, "unknown transport type '\(type)'\(suggestion): webhook, http, smtp or exec",
                      loc(typeNode))
                return nil
            }
            return TransportSpec(name: name, kind: kind, retry: retry, secrets: secrets, location: loc(node))
        }

        // MARK: pieces

        static func isVariableName(_ s: String) -> Bool {
            guard let first = s.utf8.first, !(48...57).contains(first) else { return false }
            return s.utf8.allSatisfy { (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0)
                || $0 == 95 }
        }

        /// Parses placeholders, resolving secrets now (a missing one is an error at `at`).
        func template(_ s: String, at: SourceLocation, variables: Bool, secrets: inout [String: String])
            -> TransportTemplate?
        {
            var parts: [TransportTemplate.Part] = []
            var rest = Substring(s)
            var ok = true
            while let open = rest.range(of: "{{") {
                if open.lowerBound > rest.startIndex { parts.append(.literal(String(rest[..<open.lowerBound]))) }
                guard let close = rest[open.upperBound...].range(of: "}}") else {
                    error(.templateSyntax, "'{{' without '}}' in \"\(s)\"", at)
                    return nil
                }
                let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
                rest = rest[close.upperBound...]
                if name.hasPrefix("secret:") {
                    let secretName = String(name.dropFirst("secret:".count))
                    if let value = resolveSecret(secretName, at: at) {
                        secrets[secretName] = value
                        parts.append(.secret(secretName))
                    } else {
                        ok = false
                    }
                } else if variables, TransportTemplate.variables.contains(name) {
                    parts.append(.variable(name))
                } else {
                    let allowed = variables ? TransportTemplate.variables.map { "{{\($0)}}" }.joined(separator: ", ")
                        + " or {{secret:NAME}}" : "only {{secret:NAME}}"
                    error(.unknownTemplateVariable, "unknown placeholder '{{\(name)}}' here: \(allowed)", at)
                    ok = false
                }
            }
            if !rest.isEmpty { parts.append(.literal(String(rest))) }
            return ok ? TransportTemplate(parts: parts) : nil
        }

        func resolveSecret(_ name: String, at: SourceLocation) -> String? {
            if let v = resolved[name] { return v }
            var value: String?
            var why: String
            if let src = secretSources[name] {
                if let env = src.env {
                    value = environment[env].flatMap { $0.isEmpty ? nil : $0 }
                    why = "environment variable \(env) (secrets: \(name)) is not set"
                } else if let f = src.file {
                    if let d = FileManager.default.contents(atPath: f), let s = String(data: d, encoding: .utf8) {
                        value = s.trimmingCharacters(in: .newlines)
                        if value?.isEmpty == true { value = nil }
                        why = "the secret file \(f) (secrets: \(name)) is empty"
                    } else {
                        why = "cannot read the secret file \(f) (secrets: \(name))"
                    }
                } else {
                    why = "secret '\(name)' has no source"
                }
            } else {
                value = environment[name].flatMap { $0.isEmpty ? nil : $0 }
                why = "secret '\(name)' is missing: set the environment variable \(name), or name its source "
                    + "under 'secrets:' ({env: VARIABLE} or {file: PATH})"
            }
            guard let value else {
                error(.missingKey, why, at)
                return nil
            }
            resolved[name] = value
            return value
        }

        func checkURL(_ t: TransportTemplate, secrets: [String: String], schemes: [String], at: SourceLocation) {
            let sample = t.render(Dictionary(uniqueKeysWithValues: TransportTemplate.variables.map { ($0, "x") }),
                                  secrets: secrets)
            guard let c = URLComponents(string: sample), let scheme = c.scheme?.lowercased(),
                  schemes.contains(scheme), let host = c.host, !host.isEmpty else {
                // Never echo a URL with its secrets in.
                let shown = t.render([:], secrets: [:])
                error(.badURL, "invalid URL '\(shown)': it needs \(schemes.joined(separator: " or "))://HOST/...", at)
                return
            }
        }

        func duration(_ node: Node, what: String) -> Int64? {
            guard let s = scalar(node, what: what) else { return nil }
            if s.hasSuffix("ms"), let v = Int64(s.dropLast(2)), v > 0, v <= 86_400_000 { return v }
            if let d = PlaybookDuration(parsing: s), d.milliseconds > 0 { return d.milliseconds }
            error(.badDuration, "\(what) '\(s)' is not a duration (500ms, 10s, 2m, 1h)", loc(node))
            return nil
        }

        func bool(_ m: [(Node, Node)], _ key: String) -> Bool? {
            guard let n = m[key], let s = scalar(n, what: key) else { return nil }
            switch s {
            case "true": return true
            case "false": return false
            default:
                error(.badValue, "'\(key)' must be true or false, not '\(s)'", loc(n))
                return nil
            }
        }

        func scalar(_ node: Node, what: String) -> String? {
            guard case .scalar(let s) = node else {
                error(.wrongType, "\(what) must be a single value", loc(node))
                return nil
            }
            return s.string
        }

        func mapping(_ node: Node, what: String) -> [(Node, Node)]? {
            guard case .mapping(let m) = node else {
                error(.wrongType, "\(what) must be a mapping (key: value)", loc(node))
                return nil
            }
            var seen = Set<String>()
            var out: [(Node, Node)] = []
            for (k, v) in m {
                if let s = k.scalar?.string, !seen.insert(s).inserted {
                    error(.duplicateKey, "duplicate key '\(s)'", loc(k))
                    continue
                }
                out.append((k, v))
            }
            return out
        }

        func checkKeys(_ m: [(Node, Node)], _ allowed: [String], what: String) {
            for (k, _) in m {
                guard let s = k.scalar?.string, !allowed.contains(s) else { continue }
                error(.unknownKey, "unknown key '\(s)' in \(what) (allowed: \(allowed.joined(separator: ", ")))",
                      loc(k))
            }
        }

    }
}

extension Array where Element == (Node, Node) {
    subscript(_ key: String) -> Node? { first { $0.0.scalar?.string == key }?.1 }
}
