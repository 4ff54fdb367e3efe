import ArgumentParser
import CrisisCore
import CrisisPlaybook
import CrisisRuntime
import Foundation

/// `crisis transports check`: validates the transports file, and on request sends one test message.
struct TransportsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transports",
        abstract: "Check the transports that send live deliveries (webhooks, HTTP gateways, e-mail, programs).",
        subcommands: [TransportsCheckCommand.self])
}

struct TransportsCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the transports file; with --send-test, send one test message through a channel.",
        usage: "crisis transports check [--transports FILE] [--contacts FILE] [--send-test CHANNEL --to ADDRESS]",
        discussion: """
            The file is --transports, else $CRISIS_TRANSPORTS, else $XDG_CONFIG_HOME/crisis/transports.yaml \
            (docs/transports.md). Problems are printed as path:line:column: error: message [code]; secrets are \
            resolved (environment variables, files) but never printed. With --contacts, people without an address \
            on a channel that has a transport are listed. Exit status 0 when the file is valid (and the test \
            message was sent), 1 otherwise.
            """)

    @Option(help: ArgumentHelp("Transports file.", valueName: "file")) var transports: String?
    @Option(help: ArgumentHelp("A contacts directory to check addresses against.", valueName: "file"))
    var contacts: String?
    @Option(name: .customLong("send-test"), help: ArgumentHelp("Send one test message on this channel.",
                                                              valueName: "channel"))
    var sendTest: String?
    @Option(help: ArgumentHelp("The test message's address (a phone number, an e-mail address).", valueName: "address"))
    var to: String?

    func validate() throws {
        if to != nil, sendTest == nil { throw ValidationError("--to goes with --send-test CHANNEL") }
    }

    func run() async throws {
        guard let (path, _) = TransportsConfig.locate(option: transports) else {
            throw fail(RuntimeError.invalid("no transports file: pass --transports FILE or set CRISIS_TRANSPORTS"))
        }
        let (config, diagnostics) = TransportsLoader.load(path: path)
        let printer = DiagnosticPrinter.forDescriptor(2)
        if !diagnostics.isEmpty { FileHandle.standardError.write(Data(printer.render(diagnostics).utf8)) }
        guard let config else {
            Out.error("\(path): \(diagnostics.errorCount) error(s): every live delivery would be handed to a person")
            throw ExitCode(ExitStatus.refused)
        }
        var lines = ["\(path): \(TransportsLoader.schema), \(config.transports.count) transport(s), "
                     + "\(config.channels.count) channel(s)"]
        for channel in config.channels.keys.sorted() {
            guard let (route, spec) = config.route(for: channel) else { continue }
            lines.append("  \(channel) -> \(route.transport) (\(Self.describe(spec)))  deadline "
                         + "\(Self.duration(route.deadlineMs)), \(Self.duration(spec.retry.attemptTimeoutMs)) per attempt")
        }
        let unused = Set(config.transports.keys).subtracting(config.channels.values.map(\.transport)).sorted()
        if !unused.isEmpty { lines.append("  not used by any channel: \(unused.joined(separator: ", "))") }
        lines.append("Channels not listed are handed to a person. Drills never deliver.")
        var problems = 0
        if let contacts {
            let c = ContactsLoader.load(bytes: [UInt8](FileManager.default.contents(atPath: contacts) ?? Data()),
                                        path: contacts)
            guard let directory = c.directory else {
                FileHandle.standardError.write(Data(printer.render(c.diagnostics).utf8))
                throw ExitCode(ExitStatus.refused)
            }
            for channel in config.channels.keys.sorted() {
                guard let (_, spec) = config.route(for: channel) else { continue }
                if case .webhook = spec.kind { continue }
                let missing = directory.people.filter { p in !p.channels.contains { $0.type == channel } }
                if !missing.isEmpty {
                    problems += 1
                    lines.append("  \(channel): no address for \(missing.map(\.id).joined(separator: ", ")) "
                                 + "(a delivery to them on \(channel) fails)")
                }
            }
        }
        Out.print(lines.joined(separator: "\n"))
        guard let channel = sendTest else { return }
        guard let (_, spec) = config.route(for: channel) else {
            Out.error("channel '\(channel)' has no transport in \(path) (channels: "
                      + "\(config.channels.keys.sorted().joined(separator: ", ")))")
            throw ExitCode(ExitStatus.refused)
        }
        var isHook = false
        if case .webhook = spec.kind { isHook = true }
        guard isHook || to != nil else {
            Out.error("--send-test \(channel) needs --to ADDRESS")
            throw ExitCode(ExitStatus.usage)
        }
        let stamp = ISO8601.format(.wallClock(), milliseconds: false)
        let delivery = Delivery(
            key: "test/\(channel)/\(stamp)", step: "transports-check", purpose: .notify, channel: channel,
            recipients: ["test"], text: "crisis: test message on channel \(channel) (\(stamp)). No action needed.")
        let person = Person(id: "test", name: "test recipient", roles: [],
                            channels: to.map { [ContactChannel(type: channel, address: $0)] } ?? [])
        let result = OutboxTransport(config: config).send(
            delivery, context: DeliveryContext(incident: "transports-check", contacts: ContactsDirectory(people: [person])))
        for a in result.attempts {
            var line = "  attempt \(a.number): \(a.latencyMs) ms"
            if let s = a.status { line += ", status \(s)" }
            if let r = a.reply { line += ", \(TerminalText.escape(r))" }
            if let e = a.error { line += ", \(TerminalText.escape(e))" }
            if let b = a.backoffMs { line += "; next in \(b) ms" }
            Out.print(line)
        }
        Out.print("\(result.result.rawValue): \(TerminalText.escape(result.detail))")
        if result.result != .sent || problems > 0 { throw ExitCode(ExitStatus.refused) }
    }

    static func describe(_ spec: TransportSpec) -> String {
        switch spec.kind {
        case .webhook(let w): "webhook, \(w.format.rawValue)"
        case .http(let h): "http \(h.method)"
        case .smtp(let s): "smtp \(s.host):\(s.port)\(s.tls ? ", tls" : (s.starttls ? ", starttls" : ""))"
        case .exec(let e):
            "exec, \(e.command.count) argument(s)"
                + (e.environment.isEmpty ? "" : ", env \(e.environment.map(\.name).joined(separator: " "))")
        }
    }

    static func duration(_ ms: Int64) -> String { OutboxTransport.duration(ms) }
}

/// How commands that write get their transport: the transports file, or hand delivery without one. A broken file
/// does not stop the incident: its problems are printed, and deliveries are handed to a person, each saying why.
enum TransportsSetup {
    static func transport(option: String?) -> any DeliveryTransport {
        guard let (path, explicit) = TransportsConfig.locate(option: option) else { return ManualTransport() }
        if !explicit && !FileManager.default.fileExists(atPath: path) { return ManualTransport() }
        let (config, diagnostics) = TransportsLoader.load(path: path)
        if let config {
            return OutboxTransport(config: config)
        }
        let printer = DiagnosticPrinter.forDescriptor(2)
        FileHandle.standardError.write(Data(printer.render(diagnostics.filter(\.isError)).utf8))
        let first = diagnostics.first(where: \.isError).map(\.description) ?? path
        Out.error("crisis: the transports file has errors: live deliveries are handed to a person")
        return BrokenTransports(problem: first)
    }
}

/// Stands in for a transports file that could not be read: every delivery is handed to a person, saying why.
struct BrokenTransports: DeliveryTransport {
    let problem: String
    func send(_ delivery: Delivery) -> TransportResult {
        TransportResult(.manual, "transports file not usable (\(problem)): send it by hand, then confirm it")
    }
    /// Nothing to queue for a watcher: every delivery is handed to a person.
    func sendsItself(_ delivery: Delivery) -> Bool { false }
}
