import CrisisRuntime
import Testing

@Suite("TextDiff: word diff of statement revisions")
struct TextDiffTests {
    @Test("Changed, added and removed words, in place; equal texts give no diff")
    func words() {
        #expect(TextDiff.inline("We know a post names a colleague.", "We know a post named a colleague.")
            == "We know a post [-names-]{+named+} a colleague.")
        #expect(TextDiff.inline("Update at 11:00.", "Next update at 11:00 today.")
            == "[-Update-]{+Next update+} at [-11:00.-]{+11:00 today.+}")
        #expect(TextDiff.inline("Linje én\nLinje to", "Linje én\nLinje tre") == "Linje én\nLinje [-to-]{+tre+}")
        #expect(TextDiff.inline("", "Ny tekst") == "{+Ny tekst+}")
        #expect(TextDiff.inline("Same", "Same") == nil)
        // For a terminal: unchanged text keeps a few words around each change, line breaks read as spaces.
        #expect(TextDiff.inline("One two three four five\nsix seven eight nine ten.", "One two three four five\nsix seven EIGHT nine ten.",
                                context: 2) == "… six seven [-eight-]{+EIGHT+} nine ten.")
        #expect(TextDiff.inline("a b c d e f g", "a X c d e f Y", context: 1)
                == "a [-b-]{+X+} c … f [-g-]{+Y+}")
    }

    @Test("Parts rebuild both texts")
    func parts() {
        let old = "Vi kjenner til innlegget. Neste oppdatering kommer kl. 11."
        let new = "Vi kjenner til innlegget som deles. Neste oppdatering kommer kl. 12."
        var a = ""
        var b = ""
        for p in TextDiff.parts(old, new) {
            switch p {
            case .same(let s): a += s; b += s
            case .removed(let s): a += s
            case .added(let s): b += s
            }
        }
        #expect(a == old)
        #expect(b == new)
    }
}
