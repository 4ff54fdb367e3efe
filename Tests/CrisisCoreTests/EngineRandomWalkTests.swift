import CrisisCore
import Foundation
import Testing

/// A small seeded generator (SplitMix64), so every random walk can be reproduced from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Every step type in one playbook, with loops, a run deadline, a target and a clock.
func walkPlaybook(join: JoinPolicy, failure: BranchFailurePolicy) -> Playbook {
    let statement = StatementSpec(
        template: loc("t"), channels: [ChannelSpec(id: "x"), ChannelSpec(id: "website")],
        facts: [FactSpec(name: "what_we_know", prompt: "Known"), FactSpec(name: "when", prompt: "When", type: .time, required: false)],
        approval: ApprovalSpec(
            roles: [loc("legal")], quorum: 2, timeout: dur("20m"), fallbackRoles: [loc("lead")],
            excludeInput: loc("conflicted")),
        maxRevisions: 2)
    let body = step(
        "request",
        .takedown(
            TakedownSpec(
                platform: .literal("x"), urls: .literal("{{item}}"), basis: .dsaArt16, submitterRoles: [loc("legal")],
                followUp: dur("1h"), giveUpAfter: dur("3h"), prefill: ["notifier_name": "Example AS"])),
        role: "legal", timeout: "2h")
    let parallel = ParallelSpec(
        branches: [
            Branch(
                id: "stmt", start: loc("statement"),
                steps: [
                    step(
                        "statement", .holdingStatement(statement), role: "comms", timeout: "2h",
                        next: ["published": "stmt_ok", "rejected": "stmt_fail", "timeout": "stmt_fail"]),
                    end("stmt_ok", "done"), end("stmt_fail", "failed"),
                ]),
            Branch(
                id: "take", start: loc("each"),
                steps: [
                    step(
                        "each",
                        .foreach(ForeachSpec(items: loc("urls"), body: body, failedOutcomes: ["refused", "no_response", "timeout"], tolerateFailures: 1)),
                        next: ["done": "take_ok", "failed": "take_fail"]),
                    end("take_ok", "done"), end("take_fail", "failed"),
                ]),
            Branch(
                id: "page", start: loc("page_lead"),
                steps: [
                    step(
                        "page_lead", .escalate(EscalateSpec(policy: loc("comms_crisis"), message: "{{incident.id}}")),
                        next: ["acknowledged": "page_ok"]),
                    end("page_ok", "done"),
                ]),
        ], join: join, onBranchFailure: failure)
    let clock = { (id: String, op: ClockOperation, next: String) in
        step(id, .clock(ClockStepSpec(clock: loc("gdpr"), operation: op, from: op == .start ? loc("detected_at") : nil)), next: ["done": next])
    }
    return playbook(
        [
            clock("start_clock", .start, "triage"),
            choice(
                "triage", [("respond", nil), ("monitor", nil)], default: "respond", role: "comms", timeout: "15m",
                next: ["respond": "respond", "monitor": "watch"]),
            step(
                "watch", .wait(WaitSpec(event: "escalated")), timeout: "30m", maxVisits: 3,
                next: ["received": "triage", "timeout": "triage", "max_visits": "respond"]),
            step("respond", .parallel(parallel), timeout: "6h", next: ["done": "tell", "failed": "tell", "timeout": "tell"]),
            step(
                "tell", .notify(NotifySpec(audience: "staff", channels: ["email", "sms"], message: "{{inputs.urls}}")),
                timeout: "30m", next: ["sent": "cool", "failed": "cool", "timeout": "cool"]),
            step("cool", .wait(WaitSpec(duration: dur("10m"))), next: ["elapsed": "stop_clock"]),
            clock("stop_clock", .stop, "check"), clock("check", .check, "fin"),
            end("fin", "resolved"), end("overdue", "overdue"),
        ],
        inputs: [InputSpec(name: "detected_at", type: .time, prompt: "p")],
        targets: [
            TargetSpec(
                id: "first_statement", title: "t", step: loc("statement"), outcome: loc("published"), within: dur("60m"),
                from: .input("detected_at"))
        ],
        clocks: [ClockSpec(id: "gdpr", title: "GDPR", duration: dur("72h"), warnBefore: [dur("71h"), dur("70h")])],
        deadline: DeadlineSpec(after: dur("12h"), next: loc("overdue")))
}

let walkContacts = ContactsDirectory(
    people: [
        Person(id: "kari", name: "Kari", roles: ["comms"], channels: [ContactChannel(type: "sms", address: "1")]),
        Person(id: "lena", name: "Lena", roles: ["lead"], deputy: "kari", availability: [AvailabilityWindow(days: [6, 7], fromMinute: 0, toMinute: 600)]),
    ],
    policies: [
        EscalationPolicy(
            id: "comms_crisis",
            levels: [
                PolicyLevel(targets: [.role("comms")], ackTimeout: dur("10m")), PolicyLevel(targets: [.role("lead")], ackTimeout: dur("10m")),
            ], repeats: 1)
    ])

struct Walk {
    var events: [(EngineEvent, Instant)] = []
    var results: [Result<[EngineAction], Rejection>] = []
    var final: IncidentState
}

enum WalkCheck {
    static let names = ["kari", "lars", "liv", "lena", "Ola", "per"]
    static let roles: [String?] = [nil, "comms", "legal", "lead", "legal", "legal"]

    static func value(for field: FieldSpec, _ rng: inout SplitMix64) -> String {
        if !field.values.isEmpty, let v = field.values.randomElement(using: &rng) { return v }
        switch field.type {
        case .string: return names.randomElement(using: &rng) ?? "x"
        case .text: return ["some text", "line one\nline two", "Ærlig talt, ø og å"].randomElement(using: &rng) ?? "t"
        case .url, .urls: return "https://example.com/p"
        case .enum: return "x"
        case .integer: return "7"
        case .boolean: return Bool.random(using: &rng) ? "true" : "false"
        case .time: return "2025-10-24T10:00:00+02:00"
        }
    }

    static func randomEvent(_ state: IncidentState, now: inout Instant, _ rng: inout SplitMix64) -> EngineEvent {
        let roll = Int.random(in: 0..<100, using: &rng)
        let actor = Actor(
            name: names.randomElement(using: &rng) ?? "kari", role: roles.randomElement(using: &rng) ?? nil)
        if roll < 5 {
            return .noted(text: "note", actor: actor)
        }
        if roll < 8 {
            return .timerFired(id: "t\(Int.random(in: 0..<200, using: &rng))")
        }
        if roll < 22, let timer = state.nextTimer {
            if timer.due > now { now = timer.due }
            return .timerFired(id: timer.id)
        }
        if roll < 38, let open = state.deliveries.filter({ !$0.status.isFinal }).randomElement(using: &rng) {
            let result = DeliveryResult.allCases.randomElement(using: &rng) ?? .sent
            return .deliveryCompleted(key: open.delivery.key, result: result, detail: nil, actor: .system)
        }
        if roll < 40, let done = state.deliveries.randomElement(using: &rng) {
            return .deliveryCompleted(key: done.delivery.key, result: .sent, detail: nil, actor: .system)
        }
        now = now + PlaybookDuration.minutes(Int64.random(in: 0...10, using: &rng))
        var instances = state.active.map(\.instance) + ["incident"]
        if roll < 42 { instances += state.history.map(\.instance) }
        let instance = instances.randomElement(using: &rng) ?? "incident"
        let specs = Engine.availableActions(for: instance, in: state)
        guard let spec = specs.randomElement(using: &rng), instance != "incident" || roll > 97 else {
            return .acted(step: instance, action: ["ack", "done", "choose"].randomElement(using: &rng) ?? "ack", fields: ["by": "kari"], actor: actor)
        }
        var actor2 = actor
        if let role = spec.roles.randomElement(using: &rng), Int.random(in: 0..<10, using: &rng) < 8 {
            actor2.role = role
        }
        var fields: [String: String] = [:]
        for field in spec.fields where field.required || Bool.random(using: &rng) {
            fields[field.name] = value(for: field, &rng)
        }
        // The runtime renders a statement draft and sends its texts and hash as `drafted`.
        if spec.name == StepAction.draft.rawValue, let run = state.run(instance), case .statement = run.progress {
            let sha = "sha\(Int.random(in: 0..<3, using: &rng))"
            var texts: [String: String] = [:]
            for language in state.definition.playbook.languages { texts[language] = "Text \(language)" }
            if Int.random(in: 0..<20, using: &rng) == 0 { fields["bogus"] = "1" }
            return .drafted(
                step: instance, facts: fields, statement: RenderedStatement(texts: texts, sha256: sha), actor: actor2)
        }
        if Int.random(in: 0..<20, using: &rng) == 0 { fields["bogus"] = "1" }
        return .acted(step: instance, action: spec.name, fields: fields, actor: actor2)
    }

    /// A state survives encode and decode unchanged (the runtime snapshots it).
    static func roundTrip(_ state: IncidentState, seed: UInt64) {
        do {
            let data = try JSONEncoder().encode(state)
            // The encoding leaves the definition out (it is pinned with the incident); decoding is given it.
            #expect(!String(decoding: data, as: UTF8.self).contains("\"playbook\""))
            let decoder = JSONDecoder()
            decoder.userInfo[IncidentState.definitionKey] = state.definition
            let decoded = try decoder.decode(IncidentState.self, from: data)
            #expect(decoded == state, "seed \(seed): decoded state differs at \(differences(state, decoded).prefix(5))")
        } catch {
            Issue.record("seed \(seed): \(error)")
        }
    }

    static func invariants(_ state: IncidentState) {
        for run in state.active {
            // A run's progress matches its step's kind, and it offers only what the step table lists.
            #expect(run.progress.stepType == state.definition.playbook.step(run.stepID)?.stepType)
            let offered = Engine.availableActions(for: run.instance, in: state).map(\.name)
            let table = run.progress.stepType.actions.map(\.rawValue)
            #expect(offered.allSatisfy(table.contains), "\(run.instance) offers \(offered), table \(table)")
        }
        let instances = state.active.map(\.instance)
        #expect(Set(instances).count == instances.count, "active instances are unique")
        for timer in state.timers {
            if let step = timer.step { #expect(instances.contains(step), "timer \(timer.id) belongs to an active step") }
        }
        #expect(Set(state.timers.map(\.id)).count == state.timers.count)
        if !state.status.isOpen {
            #expect(state.active.isEmpty && state.timers.isEmpty)
        }
        for run in state.active {
            switch run.scope {
            case .branch(let p, _), .item(let p, _, _): #expect(instances.contains(p), "container of \(run.instance) is active")
            case nil, .clockRoute, .timeoutRoute: break
            }
        }
    }

    static func walk(seed: UInt64, length: Int) -> Walk {
        var rng = SplitMix64(seed: seed)
        let joins: [JoinPolicy] = [.all, .any, .count(2)]
        let pb = walkPlaybook(
            join: joins.randomElement(using: &rng) ?? .all, failure: Bool.random(using: &rng) ? .failFast : .waitAll)
        let urls = ["https://x.com/a", "https://x.com/a https://x.com/b", ""].randomElement(using: &rng) ?? ""
        let def = definition(
            pb, inputs: ["detected_at": "2025-10-24T09:40:00+02:00", "urls": urls, "conflicted": "Ola, per"],
            contacts: walkContacts, id: "W-\(seed)")
        var now = t0
        var (state, _) = Engine.start(def, at: now)
        var walk = Walk(final: state)
        for _ in 0..<length {
            let event = randomEvent(state, now: &now, &rng)
            let result = Engine.handle(event, in: state, at: now)
            walk.events.append((event, now))
            switch result {
            case .success(let (next, actions)):
                state = next
                walk.results.append(.success(actions))
            case .failure(let rejection):
                #expect(!rejection.message.isEmpty && rejection.code.isEngineCode)
                #expect(!rejection.message.contains("--"), "no command-line syntax: \(rejection.message)")
                walk.results.append(.failure(rejection))
            }
            if case .success(let actions) = walk.results.last {
                for case .remind(_, let message) in actions {
                    #expect(!message.contains("--"), "no command-line syntax: \(message)")
                }
            }
            invariants(state)
            if walk.events.count == length / 2 { roundTrip(state, seed: seed) }
        }
        walk.final = state
        return walk
    }
}

@Suite("Engine: random walks")
struct EngineRandomWalkTests {
    @Test("Random walks never crash, replay to identical states and actions, and survive encode and decode", arguments: 0..<4)
    func replay(batch: Int) {
        var closed = 0
        var outcomes: Set<String> = []
        for i in 0..<300 {
            let seed = UInt64(batch * 300 + i) &* 0x1234_5678_9ABC
            let walk = WalkCheck.walk(seed: seed, length: 100)
            // Replay the recorded events from a fresh start.
            let def = walk.final.definition
            var (state, _) = Engine.start(def, at: t0)
            for (index, (event, now)) in walk.events.enumerated() {
                let result = Engine.handle(event, in: state, at: now)
                switch (result, walk.results[index]) {
                case (.success(let (next, actions)), .success(let recorded)):
                    #expect(actions == recorded, "seed \(seed) event \(index)")
                    state = next
                case (.failure(let a), .failure(let b)):
                    #expect(a == b, "seed \(seed) event \(index)")
                default:
                    Issue.record("seed \(seed) event \(index): replay diverged")
                }
            }
            #expect(state == walk.final, "seed \(seed): replayed state differs")
            WalkCheck.roundTrip(walk.final, seed: seed)
            if case .closed(let outcome) = walk.final.status {
                closed += 1
                outcomes.insert(outcome)
            }
            for record in walk.final.history {
                outcomes.insert("\(record.stepID):\(record.outcome)")
                if case .statement(let st) = record.detail, st.phase == .approved || st.phase == .publishing {
                    outcomes.insert("statement:approved")
                }
            }
        }
        // The walks must actually reach deep into the playbook, not bounce off refusals.
        #expect(closed > 30)
        #expect(outcomes.contains("statement:approved") || outcomes.contains("statement:published"))
        #expect(outcomes.contains("statement:rejected"))
        #expect(outcomes.contains("respond:done") && outcomes.contains("respond:failed"))
        #expect(outcomes.contains("request:removed") || outcomes.contains("request:refused") || outcomes.contains("request:timeout"))
        #expect(outcomes.contains("page_lead:acknowledged"))
    }

    @Test("Start is deterministic")
    func startDeterministic() {
        let def = definition(walkPlaybook(join: .all, failure: .waitAll), inputs: ["urls": "https://x.com/a", "detected_at": "2025-10-24T09:40:00+02:00"], contacts: walkContacts)
        let a = Engine.start(def, at: t0)
        let b = Engine.start(def, at: t0)
        #expect(a.0 == b.0)
        #expect(a.1 == b.1)
    }
}
