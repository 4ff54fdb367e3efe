import ArgumentParser
import CrisisCore
import CrisisRuntime
import Foundation

/// `crisis deliveries [ID]`: what is waiting for a person to send by hand (or to say whether it went out).
struct DeliveriesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliveries",
        abstract: "List the deliveries waiting for a person: who, where, the exact text, and how to settle them.",
        discussion: """
            A live delivery with no transport for its channel is handed to a person: send it by hand, then say so \
            with 'crisis sent ID KEY...' (or 'crisis failed ID KEY... --reason TEXT'). A delivery 'in doubt' was \
            recorded but crisis stopped before it knew whether it went out: check, then settle it the same way; it \
            is never sent again by itself. KEY is the short key shown here.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var display: DisplayOptions
    @Argument(help: "Incident id or a short part of it (default: the latest open incident).",
              completion: Complete.incidents("deliveries"))
    var id: String?
    @Flag(help: "Machine-readable output (the status report's deliveries).") var json = false

    func run() async throws {
        do {
            let service = try store.service(reading: true)
            let report = StatusReport(try service.load(try service.resolveIncident(id)), wallNow: .wallClock())
            if json { try Out.json(report.deliveries) } else { Out.print(DeliveriesText.render(report)) }
        } catch {
            throw fail(error, json: json)
        }
    }
}

enum DeliveriesText {
    static func render(_ report: StatusReport, width: Int = Fit.terminalWidth()) -> String {
        let e = { (s: String) in TerminalText.escape(s) }
        var machine: [String] = []
        if let outbox = report.outbox {
            machine.append("")
            machine.append("With crisis (nothing to do unless it fails):")
            for d in outbox {
                machine.append("  \(d.short_key ?? d.key)  \(d.purpose) via \(e(d.channel)) to \(e(d.recipientsText))  "
                               + OutboxText.state(d))
            }
            machine = machine.flatMap { Fit.lines($0, width: width) }
        }
        guard !report.deliveries.isEmpty else {
            return (["\(report.incident): nothing is waiting for a person to send."] + machine).joined(separator: "\n")
        }
        let n = report.deliveries.count
        var lines = ["\(report.incident): \(n) \(n == 1 ? "delivery waits" : "deliveries wait") for a person", ""]
        for d in report.deliveries {
            let key = d.short_key ?? d.key
            let state = d.in_doubt ? "IN DOUBT: check whether it went out" : "send by hand"
            var about = e(d.step)
            if let language = d.language { about += ", in \(e(language))" }
            if let retried = d.retry_of { about += ", retry of \(e(retried))" }
            lines.append("\(key)  \(d.purpose) via \(e(d.channel))  (\(about))  \(state)")
            let people = d.to ?? []
            for r in people {
                lines.append("    to \(e(r.name))  \(r.address.map(e) ?? "(no address on \(e(d.channel)))")")
            }
            let named = Set(people.map(\.id))
            let others = d.recipients.filter { !named.contains($0) }
            if !others.isEmpty { lines.append("    to \(others.map(e).joined(separator: ", "))") }
            for textLine in d.text.split(separator: "\n", omittingEmptySubsequences: false) {
                // The exact text, every line marked, so what to copy is plain.
                for piece in TimelineText.wrap(TerminalText.escape(String(textLine)), width: width - 6) {
                    lines.append("    │ " + piece)
                }
            }
            lines.append("")
        }
        lines = lines.flatMap { $0.hasPrefix("    │ ") ? [$0] : Fit.lines($0, width: width) }
        let keys = report.deliveries.map { $0.short_key ?? $0.key }
        lines.append("When sent:     crisis sent \(report.incident) \(keys.joined(separator: " "))")
        lines.append("If it failed:  crisis failed \(report.incident) \(keys[0]) --reason \"why\"")
        return (lines + machine).joined(separator: "\n")
    }
}

/// `crisis sent` / `crisis failed`: settle deliveries a person sent by hand, several in one command.
struct SettleOptions: ParsableArguments {
    @Argument(help: ArgumentHelp(
        "The incident (id or a short part of it), then the keys of the deliveries (as 'crisis deliveries' shows them).",
        valueName: "id-and-keys"))
    var words: [String] = []
}

struct SentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sent",
        abstract: "Record that deliveries were sent by hand (or that ones in doubt did go out).",
        usage: "crisis sent ID KEY... [--detail TEXT] [--as NAME]",
        discussion: """
            Every key is checked before anything is recorded: one that names no waiting delivery refuses the whole \
            command and nothing is recorded. Each delivery is then confirmed as its own record.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var op: OperatorOptions
    @OptionGroup var keys: KeyOptions
    @OptionGroup var display: DisplayOptions
    @OptionGroup var settle: SettleOptions
    @Option(help: "What happened (a message id, who answered), recorded with each.") var detail: String?

    func validate() throws {
        guard settle.words.count >= 2 else { throw ValidationError("give the incident and at least one key: crisis sent ID KEY...") }
    }

    func run() async throws {
        try settleDeliveries(words: settle.words, result: .sent, detail: detail, store: store, op: op, keys: keys)
    }
}

struct FailedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failed",
        abstract: "Record that deliveries could not be sent (or that ones in doubt did not go out).",
        usage: "crisis failed ID KEY... --reason TEXT [--as NAME]",
        discussion: """
            Every key is checked before anything is recorded: one that names no waiting delivery refuses the whole \
            command and nothing is recorded. The playbook decides what a failed delivery means.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var op: OperatorOptions
    @OptionGroup var keys: KeyOptions
    @OptionGroup var display: DisplayOptions
    @OptionGroup var settle: SettleOptions
    @Option(help: "Why it failed (recorded with each).") var reason: String

    func validate() throws {
        guard settle.words.count >= 2 else {
            throw ValidationError("give the incident and at least one key: crisis failed ID KEY... --reason TEXT")
        }
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ValidationError("--reason is empty: say why it failed")
        }
    }

    func run() async throws {
        try settleDeliveries(words: settle.words, result: .failed, detail: reason, store: store, op: op, keys: keys)
    }
}

/// Resolves every key among the incident's waiting deliveries first (all or nothing), then confirms each.
func settleDeliveries(words: [String], result: DeliveryResult, detail: String?, store: StoreOptions,
                      op: OperatorOptions, keys: KeyOptions) throws {
    do {
        let service = try store.service(keys: keys)
        let id = try service.resolveIncident(words[0])
        let incident = try service.load(id)
        let open = incident.state.openDeliveries
        var chosen: [DeliveryRecord] = []
        for given in words.dropFirst() {
            let matches = open.filter { $0.delivery.key == given || $0.delivery.key.hasSuffix("/" + given) }
            let waiting = open.map { incident.state.shortDeliveryKey($0.delivery.key) }
            let list = waiting.isEmpty ? "none is waiting" : "waiting: \(waiting.joined(separator: ", "))"
            guard matches.count == 1 else {
                throw RuntimeError.invalid(
                    (matches.isEmpty ? "'\(given)' names no delivery waiting for a person (\(list))"
                        : "'\(given)' matches \(matches.count) waiting deliveries; give more of the key (\(list))")
                        + "; nothing was recorded")
            }
            if chosen.contains(where: { $0.delivery.key == matches[0].delivery.key }) { continue }
            chosen.append(matches[0])
        }
        var done = 0
        for d in chosen {
            var fields = ["key": d.delivery.key, "result": result.rawValue]
            if let detail { fields["detail"] = detail }
            do {
                let r = try service.act(.init(
                    incident: id, step: d.delivery.step, action: StepAction.confirmDelivery.rawValue,
                    fields: fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, actor: op.actor,
                    note: nil, expectSeq: nil, idempotencyKey: nil, wallNow: .wallClock()))
                done += 1
                Out.print(EffectsText.render(r, color: Style.colour))
            } catch {
                if done > 0 { Out.error("\(done) of \(chosen.count) settled before this one was refused") }
                throw error
            }
        }
    } catch {
        throw fail(error)
    }
}
