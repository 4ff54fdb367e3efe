import CrisisCore
import Testing

@Suite("Channel length rules")
struct ChannelLengthTests {
    @Test("café counts 4 on X whether written NFC or NFD")
    func nfcAndNFD() {
        let nfc = "caf\u{E9}"
        let nfd = "cafe\u{301}"
        #expect(nfc.unicodeScalars.count == 4)
        #expect(nfd.unicodeScalars.count == 5)
        #expect(ChannelLength.measure(nfc, channel: "x").count == 4)
        #expect(ChannelLength.measure(nfd, channel: "x").count == 4)
        // NFC first for SMS too: a decomposed é would otherwise force UCS-2.
        #expect(ChannelLength.measure(nfd, channel: "sms").encoding == "GSM-7")
    }

    @Test("A URL counts 23 on X, whatever its length")
    func urls() {
        let long = "https://example.com/" + String(repeating: "a", count: 200)
        #expect(ChannelLength.measure(long, channel: "x").count == 23)
        #expect(ChannelLength.measure("https://t.co/x", channel: "x").count == 23)
        #expect(ChannelLength.measure("Se \(long).", channel: "x").count == 3 + 23 + 1)
        #expect(ChannelLength.measure("www.example.no/sak", channel: "x").count == 23)
        // Not a URL: no scheme and no www.
        #expect(ChannelLength.measure("example.no", channel: "x").count == 10)
    }

    @Test("A host label over 63 characters, as written or in punycode, is no URL on X: the text counts in full")
    func longLabels() {
        // RFC 3492's examples, and the labels X sees.
        #expect(ChannelLength.punycode("bücher") == "bcher-kva")
        #expect(ChannelLength.punycode("münchen") == "mnchen-3ya")
        #expect(ChannelLength.punycode("ñ") == "ida")
        let ascii63 = "https://" + String(repeating: "a", count: 63) + ".no/x"
        let ascii64 = "https://" + String(repeating: "a", count: 64) + ".no/x"
        #expect(ChannelLength.measure(ascii63, channel: "x").count == 23)
        #expect(ChannelLength.measure(ascii64, channel: "x").count == ascii64.count)
        // 58 letters and one ø: 59 characters as written, but "xn--" and its punycode make it longer than 63.
        let idn = "https://" + String(repeating: "a", count: 58) + "ø.no"
        #expect(("xn--" + ChannelLength.punycode(String(repeating: "a", count: 58) + "ø")).count > 63)
        #expect(ChannelLength.measure(idn, channel: "x").count == idn.count)
        // A short non-ASCII host is a URL as usual.
        #expect(ChannelLength.measure("https://blåbær.no/om", channel: "x").count == 23)
    }

    @Test("An emoji counts 2 on X, a ZWJ family or a flag too; CJK weighs 2; æøå and curly quotes 1")
    func weights() {
        #expect(ChannelLength.measure("😀", channel: "x").count == 2)
        #expect(ChannelLength.measure("👩‍👩‍👧‍👦", channel: "x").count == 2)
        #expect(ChannelLength.measure("🇳🇴", channel: "x").count == 2)
        #expect(ChannelLength.measure("❤️", channel: "x").count == 2)
        #expect(ChannelLength.measure("日本", channel: "x").count == 4)
        #expect(ChannelLength.measure("æøå «»’–", channel: "x").count == 8)
    }

    @Test("X allows 280 weighted characters")
    func xLimit() {
        #expect(!ChannelLength.measure(String(repeating: "a", count: 280), channel: "x").overLimit)
        let over = ChannelLength.measure(String(repeating: "a", count: 281), channel: "x")
        #expect(over.overLimit)
        #expect(over.limit == 280)
        #expect(ChannelLength.measure(String(repeating: "日", count: 141), channel: "x").overLimit)
    }

    @Test("Norwegian æøå stay GSM-7: 160 per single SMS, 153 per segment")
    func norwegianGSM() {
        let text = String(repeating: "æøåÆØÅ", count: 26) + "ab"  // 158
        let m = ChannelLength.measure(text + "cd", channel: "sms")
        #expect(m.encoding == "GSM-7")
        #expect(m.count == 160)
        #expect(m.segments == 1)
        #expect(!m.overLimit)
        let two = ChannelLength.measure(text + "cde", channel: "sms")
        #expect(two.count == 161)
        #expect(two.segments == 2)
        #expect(!two.overLimit)
        #expect(ChannelLength.measure(String(repeating: "ø", count: 306), channel: "sms").segments == 2)
        #expect(ChannelLength.measure(String(repeating: "ø", count: 307), channel: "sms").segments == 3)
    }

    @Test("One ’ switches the whole SMS to UCS-2: 70 per single SMS, 67 per segment")
    func curlyQuoteUCS2() {
        let gsm = ChannelLength.measure("Vi beklager det som skjedde. Det er ikke greit.", channel: "sms")
        #expect(gsm.encoding == "GSM-7")
        let m = ChannelLength.measure("Vi beklager det som skjedde. Det er ikke greit’", channel: "sms")
        #expect(m.encoding == "UCS-2")
        #expect(m.unit == "utf16-units")
        #expect(m.limit == 670)
        #expect(ChannelLength.measure(String(repeating: "’", count: 70), channel: "sms").segments == 1)
        #expect(ChannelLength.measure(String(repeating: "’", count: 71), channel: "sms").segments == 2)
        #expect(ChannelLength.measure(String(repeating: "’", count: 135), channel: "sms").segments == 3)
        // An emoji outside the BMP takes two units and is never split across segments.
        let a66 = String(repeating: "a", count: 66)
        let emoji = ChannelLength.measure(a66 + "😀" + a66, channel: "sms")
        #expect(emoji.count == 134)
        #expect(emoji.segments == 3)
        #expect(ChannelLength.measure(a66 + "a" + "😀" + String(repeating: "a", count: 65), channel: "sms").segments == 2)
    }

    @Test("SMS is over the limit beyond 10 messages")
    func smsLimit() {
        let ten = ChannelLength.measure(String(repeating: "a", count: 1_530), channel: "sms")
        #expect(ten.segments == 10)
        #expect(!ten.overLimit)
        let eleven = ChannelLength.measure(String(repeating: "a", count: 1_531), channel: "sms")
        #expect(eleven.segments == 11)
        #expect(eleven.overLimit)
        #expect(ChannelLength.measure(String(repeating: "’", count: 671), channel: "sms").overLimit)
        #expect(!ChannelLength.measure(String(repeating: "’", count: 670), channel: "sms").overLimit)
    }

    @Test("€ and the other extension characters cost 2 septets in GSM-7")
    func extensionCharacters() {
        let m = ChannelLength.measure("Pris: 100 €", channel: "sms")
        #expect(m.encoding == "GSM-7")
        #expect(m.count == 12)
        #expect(ChannelLength.measure("[]{}~|\\^", channel: "sms").count == 16)
        #expect(ChannelLength.measure(String(repeating: "€", count: 80), channel: "sms").count == 160)
        #expect(ChannelLength.measure(String(repeating: "€", count: 81), channel: "sms").segments == 2)
        // 152 basic septets and a € do not fit one 153-septet segment (an escape pair is never split).
        let split = ChannelLength.measure(String(repeating: "a", count: 152) + "€" + String(repeating: "a", count: 10), channel: "sms")
        #expect(split.count == 164)
        #expect(split.segments == 2)
    }

    @Test("Plain limits per platform; unknown channels have none")
    func plainLimits() {
        let expected = ["facebook": 63_206, "instagram": 2_200, "linkedin": 3_000, "threads": 500, "tiktok": 2_200,
                        "youtube": 5_000]
        for (channel, limit) in expected {
            #expect(ChannelLength.measure("x", channel: channel).limit == limit)
            #expect(!ChannelLength.measure(String(repeating: "a", count: limit), channel: channel).overLimit)
            #expect(ChannelLength.measure(String(repeating: "a", count: limit + 1), channel: channel).overLimit)
        }
        let web = ChannelLength.measure(String(repeating: "a", count: 100_000), channel: "website")
        #expect(web.limit == nil)
        #expect(!web.overLimit)
    }
}
