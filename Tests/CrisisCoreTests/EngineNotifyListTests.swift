import CrisisCore
import Foundation
import Testing

/// Distribution lists, retries and the failure policy of `notify` (issue 12, items 3 and 4).
@Suite("Engine: notify to a distribution list, retry, on_failure")
struct EngineNotifyListTests {
    static let contacts = ContactsDirectory(
        people: [
            Person(id: "coop", name: "Coop Norge", roles: [],
                   channels: [ContactChannel(type: "email", address: "press@coop.example"),
                              ContactChannel(type: "sms", address: "+47 400 00 001")]),
            Person(id: "rema", name: "Rema 1000", roles: [],
                   channels: [ContactChannel(type: "email", address: "info@rema.example")], language: "nb"),
            Person(id: "ng", name: "NorgesGruppen", roles: [],
                   channels: [ContactChannel(type: "sms", address: "+47 400 00 003")]),
        ],
        lists: [DistributionList(id: "retail_chains", name: "Retail chains", members: ["coop", "rema", "ng"])])

    static func notify(_ policy: NotifyFailurePolicy = .fail, channels: [String] = ["email"], list: String? = "retail_chains")
        -> Step
    {
        let next = policy == .wait ? ["sent": "fin", "timeout": "fin"] : ["sent": "fin", "failed": "fin", "timeout": "fin"]
        return step(
            "tell", .notify(NotifySpec(audience: "retail chains", channels: channels, message: "Recall of {{inputs.product}}",
                                       list: list.map(loc), onFailure: policy)),
            role: "comms", timeout: "1h", next: next)
    }

    static func driver(_ policy: NotifyFailurePolicy = .fail, channels: [String] = ["email"],
                       contacts: ContactsDirectory? = contacts, list: String? = "retail_chains") -> Driver {
        Driver(definition(playbook([notify(policy, channels: channels, list: list), end("fin", "ok")], languages: ["en", "nb"]),
                          inputs: ["product": "milk"], contacts: contacts))
    }

    static func key(_ n: Int) -> String { "INC-1/tell/notify/\(n)" }

    func complete(_ d: inout Driver, _ n: Int, _ result: DeliveryResult, _ detail: String? = nil) -> [EngineAction] {
        d.send(.deliveryCompleted(key: Self.key(n), result: result, detail: detail, actor: .system))
    }

    func current(_ d: Driver) -> [DeliveryRecord] {
        guard case .notify(let n)? = d.state.run("tell")?.detail
            ?? d.state.history.first(where: { $0.instance == "tell" })?.detail
        else { return [] }
        return n.current(in: d.state)
    }

    @Test("A list gets one delivery per member and channel, each with its recipient, address and language")
    func perRecipient() {
        let d = Self.driver(channels: ["email", "sms"])
        let text = "Recall of milk"
        #expect(d.startActions == [
            .enterStep(step: "tell", type: .notify),
            .deliver(Delivery(key: Self.key(1), step: "tell", purpose: .notify, channel: "email", recipients: ["coop"],
                              text: text, address: "press@coop.example", language: "en")),
            .deliver(Delivery(key: Self.key(2), step: "tell", purpose: .notify, channel: "sms", recipients: ["coop"],
                              text: text, address: "+47 400 00 001", language: "en")),
            .deliver(Delivery(key: Self.key(3), step: "tell", purpose: .notify, channel: "email", recipients: ["rema"],
                              text: text, address: "info@rema.example", language: "nb")),
            // No address on sms: the delivery is still asked for (a person sends it or fails it), without one.
            .deliver(Delivery(key: Self.key(4), step: "tell", purpose: .notify, channel: "sms", recipients: ["rema"],
                              text: text, address: nil, language: "nb")),
            .deliver(Delivery(key: Self.key(5), step: "tell", purpose: .notify, channel: "email", recipients: ["ng"],
                              text: text, address: nil, language: "en")),
            .deliver(Delivery(key: Self.key(6), step: "tell", purpose: .notify, channel: "sms", recipients: ["ng"],
                              text: text, address: "+47 400 00 003", language: "en")),
        ])
        guard case .notify(let n)? = d.state.run("tell")?.detail else {
            Issue.record("notify detail")
            return
        }
        #expect(n.list == "retail_chains")
        #expect(n.listName == "Retail chains")
        #expect(n.members == ["coop", "rema", "ng"])
        #expect(n.deliveries.isEmpty)
        #expect(n.keys == (1...6).map(Self.key))
    }

    @Test("Outcome per recipient: sent once every member's delivery went out")
    func allSent() {
        var d = Self.driver()
        #expect(complete(&d, 1, .sent).isEmpty)
        #expect(complete(&d, 2, .manual).isEmpty)
        #expect(complete(&d, 3, .sent).isEmpty)
        #expect(d.activeIDs == ["tell"])
        #expect(d.act("tell", "confirm_delivery", ["key": Self.key(2), "result": "sent"]).first
                == .exitStep(step: "tell", outcome: "sent"))
    }

    @Test("A failed delivery is retried as a new delivery with a new key, recorded as a retry of the failed one")
    func retry() {
        var d = Self.driver()
        _ = complete(&d, 1, .sent)
        _ = complete(&d, 2, .failed, "550 no such mailbox")
        // Still waiting on the third: the step stays, and retry is offered for the failed one only.
        #expect(d.activeIDs == ["tell"])
        let retry = Engine.availableActions(for: "tell", in: d.state).first { $0.name == "retry" }
        #expect(retry?.fields.map(\.name) == ["delivery"])
        #expect(retry?.fields.first?.values == [Self.key(2)])
        #expect(retry?.roles == ["comms", "lead"])
        #expect(d.refuseAct("tell", "retry", ["delivery": "1"]).code == .invalidField)
        #expect(d.refuseAct("tell", "retry", ["delivery": "2"], as: lars).code == .wrongRole)
        let before = d.state.deliveries
        // The last segment of the key names it.
        let actions = d.act("tell", "retry", ["delivery": "2"])
        let again = Delivery(key: Self.key(4), step: "tell", purpose: .notify, channel: "email", recipients: ["rema"],
                             text: "Recall of milk", address: "info@rema.example", language: "nb", retryOf: Self.key(2))
        #expect(actions == [.deliver(again)])
        // The failed one stays failed, with its reason; nothing that went out is asked for again.
        #expect(Array(d.state.deliveries.prefix(3)) == before)
        #expect(d.state.deliveries.last == DeliveryRecord(delivery: again))
        #expect(current(d).map(\.delivery.key) == [Self.key(1), Self.key(4), Self.key(3)])
        #expect(!d.available("tell").contains("retry"))
        #expect(d.refuseAct("tell", "retry", ["delivery": Self.key(2)]).code == .actionUnavailable)
        // Retries are not facts later texts read.
        #expect(d.state.recordedFields["tell"] == nil)
        _ = complete(&d, 3, .sent)
        #expect(d.activeIDs == ["tell"])
        #expect(complete(&d, 4, .sent).first == .exitStep(step: "tell", outcome: "sent"))
    }

    @Test("A retry that fails again can be retried again; the chain counts as one recipient")
    func retryTwice() {
        var d = Self.driver()
        _ = complete(&d, 1, .failed)
        d.act("tell", "retry", ["delivery": Self.key(1)])
        _ = complete(&d, 4, .failed)
        #expect(Engine.availableActions(for: "tell", in: d.state).first { $0.name == "retry" }?.fields.first?.values
                == [Self.key(4)])
        #expect(d.act("tell", "retry", ["delivery": "4"]).first
                == .deliver(Delivery(key: Self.key(5), step: "tell", purpose: .notify, channel: "email",
                                     recipients: ["coop"], text: "Recall of milk", address: "press@coop.example",
                                     language: "en", retryOf: Self.key(4))))
        #expect(current(d).map(\.delivery.key) == [Self.key(5), Self.key(2), Self.key(3)])
    }

    @Test("on_failure fail (default): once every delivery ended, failed if one failed; the sent ones stay sent")
    func policyFail() {
        var d = Self.driver()
        _ = complete(&d, 1, .sent)
        _ = complete(&d, 2, .failed)
        #expect(complete(&d, 3, .sent).first == .exitStep(step: "tell", outcome: "failed"))
        #expect(d.state.deliveries.map(\.status) == [.sent, .failed, .sent])
        guard case .notify(let n)? = d.state.history.first(where: { $0.instance == "tell" })?.detail else {
            Issue.record("history keeps the notify run")
            return
        }
        #expect(n.keys == (1...3).map(Self.key))
    }

    @Test("on_failure wait: a failure holds the step open for a retry, then sent")
    func policyWait() {
        var d = Self.driver(.wait)
        _ = complete(&d, 1, .sent)
        _ = complete(&d, 2, .sent)
        let actions = complete(&d, 3, .failed, "bounced")
        #expect(actions == [.remind(step: "tell", message: "1 of 3 deliveries of 'tell' failed (ng on email); the step waits for a retry")])
        #expect(d.activeIDs == ["tell"])
        d.act("tell", "retry", ["delivery": "3"])
        #expect(complete(&d, 4, .sent).first == .exitStep(step: "tell", outcome: "sent"))
    }

    @Test("on_failure wait: nobody retries, the timeout decides")
    func policyWaitTimeout() {
        var d = Self.driver(.wait)
        _ = complete(&d, 1, .failed)
        _ = complete(&d, 2, .failed)
        _ = complete(&d, 3, .failed)
        #expect(d.activeIDs == ["tell"])
        d.fireNext()
        #expect(d.outcome(of: "tell") == "timeout")
    }

    @Test("on_failure continue: sent when at least one went out, failed when none did")
    func policyContinue() {
        var some = Self.driver(.continue)
        _ = complete(&some, 1, .failed)
        _ = complete(&some, 2, .sent)
        #expect(complete(&some, 3, .failed).first == .exitStep(step: "tell", outcome: "sent"))
        var none = Self.driver(.continue)
        _ = complete(&none, 1, .failed)
        _ = complete(&none, 2, .failed)
        #expect(complete(&none, 3, .failed).first == .exitStep(step: "tell", outcome: "failed"))
    }

    @Test("A named audience with one failed channel out of two: retry the failed channel only")
    func audienceRetry() {
        var d = Self.driver(channels: ["email", "sms"], list: nil)
        #expect(d.state.deliveries.map(\.delivery.recipients) == [["retail chains"], ["retail chains"]])
        _ = complete(&d, 1, .sent)
        _ = complete(&d, 2, .failed, "gateway down")
        #expect(d.activeIDs.isEmpty)
        #expect(d.outcome(of: "tell") == "failed")
        #expect(d.state.deliveries.map(\.status) == [.sent, .failed])

        var w = Self.driver(.wait, channels: ["email", "sms"], list: nil)
        _ = complete(&w, 1, .sent)
        _ = complete(&w, 2, .failed, "gateway down")
        #expect(w.act("tell", "retry", ["delivery": "2"]).first
                == .deliver(Delivery(key: Self.key(3), step: "tell", purpose: .notify, channel: "sms",
                                     recipients: ["retail chains"], text: "Recall of milk", retryOf: Self.key(2))))
        #expect(w.act("tell", "confirm_delivery", ["key": Self.key(3), "result": "sent"]).first
                == .exitStep(step: "tell", outcome: "sent"))
        #expect(w.state.deliveries.map(\.status) == [.sent, .failed, .sent])
    }

    @Test("A list the incident cannot resolve falls back to the audience, and says so")
    func unresolvedList() {
        let none = Self.driver(contacts: nil)
        #expect(none.state.deliveries.map(\.delivery.recipients) == [["retail chains"]])
        #expect(none.startActions.contains(.remind(
            step: "tell",
            message: "step 'tell' sends to list 'retail_chains', but the incident has no contacts directory; it was sent to the audience 'retail chains' instead")))
        let other = Self.driver(contacts: ContactsDirectory(people: Self.contacts.people))
        #expect(other.state.deliveries.count == 1)
        #expect(other.startActions.contains { if case .remind = $0 { true } else { false } })
    }

    @Test("An empty list is sent at once")
    func emptyList() {
        var c = Self.contacts
        c.lists = [DistributionList(id: "retail_chains", name: "Retail chains", members: [])]
        let d = Self.driver(contacts: c)
        #expect(d.outcome(of: "tell") == "sent")
        #expect(d.state.deliveries.isEmpty)
    }

    @Test("A state with lists and retries encodes and decodes to itself, and replays identically")
    func encodeReplay() throws {
        var d = Self.driver(.wait, channels: ["email", "sms"])
        var events: [EngineEvent] = []
        func send(_ e: EngineEvent) {
            events.append(e)
            d.send(e)
        }
        send(.deliveryCompleted(key: Self.key(1), result: .sent, detail: nil, actor: .system))
        send(.deliveryCompleted(key: Self.key(2), result: .failed, detail: "x", actor: .system))
        send(.acted(step: "tell", action: "retry", fields: ["delivery": "2"], actor: kari))
        let data = try JSONEncoder().encode(d.state)
        let decoder = JSONDecoder()
        decoder.userInfo[IncidentState.definitionKey] = d.state.definition
        #expect(try decoder.decode(IncidentState.self, from: data) == d.state)
        var replay = Self.driver(.wait, channels: ["email", "sms"])
        for e in events { replay.send(e) }
        #expect(replay.state == d.state)
    }

    @Test("A notify run saved before lists and retries decodes with its channel map as its keys")
    func oldRunDecodes() throws {
        let old = #"{"deliveries":{"email":"INC-1/tell/notify/1","sms":"INC-1/tell/notify/2"}}"#
        let n = try JSONDecoder().decode(NotifyRun.self, from: Data(old.utf8))
        #expect(n.keys.isEmpty)
        #expect(n.allKeys == ["INC-1/tell/notify/1", "INC-1/tell/notify/2"])
        #expect(n.list == nil)
    }

    @Test("The failure policy decides the outcomes the validator expects to be routed")
    func outcomes() {
        #expect(NotifySpec(audience: "a", channels: [], message: "").ownOutcomes == ["sent", "failed"])
        #expect(NotifySpec(audience: "a", channels: [], message: "", onFailure: .wait).ownOutcomes == ["sent"])
        #expect(NotifySpec(audience: "a", channels: [], message: "", onFailure: .continue).ownOutcomes == ["sent", "failed"])
    }
}
