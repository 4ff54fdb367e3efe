import CrisisCore
import Testing

@testable import CrisisPlaybook

/// The loader builds exactly the core model from docs/playbook-format.md.
@Suite("Loader model")
struct LoaderModelTests {
    func small() throws -> Playbook {
        let result = PlaybookLoader.load(path: try Fixtures.path("valid/small.yaml"))
        #expect(!result.hasErrors, "\(result.diagnostics)")
        return try #require(result.playbook)
    }

    @Test("Top-level fields of the valid fixture")
    func topLevel() throws {
        let p = try small()
        #expect(p.schema == Playbook.schemaV1)
        #expect(p.id == "small-viral-post")
        #expect(p.version == "1")
        #expect(p.timeZone == "Europe/Oslo")
        #expect(p.languages == ["nb", "en"])
        #expect(p.roles.map(\.id) == ["crisis_lead", "comms_on_duty", "legal"])
        #expect(p.roles.map(\.lead) == [true, false, false])
        #expect(p.summary?.hasPrefix("A small playbook") == true)
        #expect(p.start.value == "triage")
        #expect(p.start.location.line == 33)
        #expect(p.start.location.column == 8)
        #expect(p.steps.map(\.id) == [
            "triage", "start_review_clock", "page_lead", "respond", "review", "closed", "closed_overdue",
        ])
        #expect(p.allSteps.count == 13)
    }

    @Test("Inputs, targets, clocks and the deadline")
    func declarations() throws {
        let p = try small()
        let platform = try #require(p.input("platform"))
        #expect(platform.type == .enum)
        #expect(platform.values == ["x", "facebook", "instagram"])
        #expect(platform.defaultValue == "x")
        #expect(platform.required == false)
        #expect(p.input("post_url")?.required == true)
        #expect(p.input("detected_at")?.type == .time)

        let target = try #require(p.targets.first)
        #expect(target.step.value == "holding_statement")
        #expect(target.outcome.value == "published")
        #expect(target.within == .minutes(60))
        #expect(target.from == .input("detected_at"))

        let clock = try #require(p.clock("internal_review"))
        #expect(clock.duration == .hours(48))
        #expect(clock.warnBefore == [.hours(6)])

        #expect(p.deadline?.after == .days(7))
        #expect(p.deadline?.next?.value == "closed_overdue")
    }

    @Test("next: X routes every outcome of the step to X, with X's location")
    func nextShorthand() throws {
        let yaml = playbookYAML(steps: """
              a:
                type: task
                title: T
                timeout: "5m"
                max_visits: 2
                next: done
              done: {type: end, title: Done, outcome: resolved}
            """)
        let step = try #require(loadYAML(yaml).playbook?.step("a"))
        #expect(step.outcomes == ["done", "skipped", "timeout", "max_visits"])
        #expect(Set(step.next.keys) == Set(step.outcomes))
        for outcome in step.outcomes {
            #expect(step.next[outcome]?.value == "done")
            #expect(step.next[outcome]?.location.line == 15)
            #expect(step.next[outcome]?.location.column == 11)
        }
    }

    @Test("A choice's option routes go into next[option]; default into defaultOption; next.timeout overrides")
    func choiceRoutes() throws {
        let p = try small()
        let triage = try #require(p.step("triage"))
        guard case .choice(let c) = triage.kind else {
            Issue.record("triage is not a choice")
            return
        }
        #expect(c.options.map(\.id) == ["severe", "normal"])
        #expect(c.options[0].when?.input.value == "severity")
        #expect(c.options[0].when?.anyOf == ["sev1"])
        #expect(c.options[1].when == nil)
        #expect(c.isAutomatic)
        #expect(c.defaultOption?.value == "normal")
        #expect(triage.next["severe"]?.value == "page_lead")
        #expect(triage.next["normal"]?.value == "start_review_clock")
        #expect(triage.next["timeout"] == nil)

        let yaml = playbookYAML(steps: """
              a:
                type: choice
                title: Q
                timeout: "5m"
                options:
                  one: {label: One, next: done}
                  two: {label: Two}
                default: one
                next: {two: other, timeout: other}
              done: {type: end, title: Done, outcome: resolved}
              other: {type: end, title: Other, outcome: resolved}
            """)
        let a = try #require(loadYAML(yaml).playbook?.step("a"))
        #expect(a.next.mapValues(\.value) == ["one": "done", "two": "other", "timeout": "other"])
    }

    @Test("Statement, takedown and escalation details")
    func stepDetails() throws {
        let p = try small()
        guard case .holdingStatement(let s)? = p.step("holding_statement")?.kind else {
            Issue.record("not a statement")
            return
        }
        #expect(s.template.value == "templates/viral-post")
        #expect(s.channels.map(\.id) == ["x", "sms", "website"])
        #expect(s.facts.map(\.name) == ["what_we_know", "next_update_at"])
        #expect(s.facts.map(\.type) == [.text, .string])
        #expect(s.facts.map(\.required) == [true, true])
        #expect(s.approval.roles.map(\.value) == ["legal"])
        #expect(s.approval.fallbackRoles.map(\.value) == ["crisis_lead"])
        #expect(s.approval.timeout == .minutes(30))
        #expect(s.approval.quorum == 1)
        #expect(s.approval.distinctFromDrafter)
        #expect(s.maxRevisions == 3)

        guard case .takedown(let t)? = p.step("request_removal")?.kind else {
            Issue.record("not a takedown")
            return
        }
        #expect(t.basis == .termsOfService)
        if case .input(let name) = t.platform { #expect(name.value == "platform") } else { Issue.record("platform") }
        if case .input(let name) = t.urls { #expect(name.value == "post_url") } else { Issue.record("urls") }
        #expect(t.followUp == .hours(24))
        #expect(t.giveUpAfter == .hours(72))
        #expect(t.prefill == ["policy_reference": "Community guidelines, harassment"])
        #expect(t.submitterRoles.map(\.value) == ["legal"])

        guard case .escalate(let e)? = p.step("page_lead")?.kind else {
            Issue.record("not an escalation")
            return
        }
        #expect(e.repeats == 1)
        #expect(e.levels.first?.targets.map(\.value) == [.role("crisis_lead")])
        #expect(e.levels.first?.ackTimeout == .minutes(10))
        #expect(e.levels.first?.channels == ["sms", "phone"])

        guard case .parallel(let par)? = p.step("respond")?.kind else {
            Issue.record("not parallel")
            return
        }
        #expect(par.branches.map(\.id) == ["statement", "takedown"])
        #expect(par.branches.map(\.start.value) == ["holding_statement", "request_removal"])
        #expect(par.join == .all)
        #expect(par.onBranchFailure == .waitAll)
    }

    @Test("A foreach body gets id <foreach>.do, the item name, default failed outcomes and the item as its URL")
    func foreachBody() throws {
        let yaml = playbookYAML(
            top: "inputs:\n  post_urls: {type: urls, prompt: Links, required: true}",
            steps: """
                  each:
                    type: foreach
                    title: Each
                    items: post_urls
                    as: url
                    do:
                      type: takedown
                      platform: x
                      basis: impersonation
                      timeout: "2h"
                    next: done
                  done: {type: end, title: Done, outcome: resolved}
                """)
        let result = loadYAML(yaml)
        #expect(!result.hasErrors, "\(result.diagnostics)")
        guard case .foreach(let f)? = result.playbook?.step("each")?.kind else {
            Issue.record("not a foreach")
            return
        }
        #expect(f.body.id == "each.do")
        #expect(f.itemName == "url")
        #expect(f.items.value == "post_urls")
        #expect(f.failedOutcomes == ["refused", "no_response", "labelled", "restored", "timeout"])
        guard case .takedown(let t) = f.body.kind else { return }
        #expect(t.urls == .literal("{{url}}"))
        #expect(result.playbook?.step("each")?.next.mapValues(\.value) == ["done": "done", "failed": "done"])
    }

    @Test("Unknown keys get a did-you-mean hint, or say which step type they belong to")
    func unknownKeys() {
        let result = loadYAML(playbookYAML(steps: """
              a: {type: task, titel: T, timeout: "5m", options: {}, next: done}
              done: {type: end, title: Done, outcome: resolved}
            """))
        let messages = result.diagnostics.filter { $0.code == DiagnosticCode.unknownKey }.map(\.message)
        #expect(messages.contains { $0.contains("'titel'") && $0.contains("did you mean 'title'?") })
        #expect(messages.contains { $0.contains("'options' belongs to choice steps") })
    }

    @Test("Every problem of a file is reported at once")
    func allAtOnce() {
        let result = loadYAML(playbookYAML(steps: """
              a: {type: task, title: T, timeout: "5 minutes", next: nowhere}
              b: {type: taks, title: B}
              done: {type: end, title: Done, outcome: resolved, extra: 1}
            """))
        let codes = Set(result.diagnostics.map(\.code))
        #expect(codes.isSuperset(of: [DiagnosticCode.badDuration, DiagnosticCode.badValue, DiagnosticCode.unknownKey]))
        let validated = PlaybookValidator.validate(
            result.partial ?? Playbook(id: "", version: "", title: "", start: Located("", at: .unknown), steps: []),
            baseDirectory: ".", contacts: nil, skipping: result.brokenSteps)
        #expect(validated.contains { $0.code == DiagnosticCode.missingTransitionTarget })
        #expect(validated.contains { $0.code == DiagnosticCode.unreachableStep })
    }
}
