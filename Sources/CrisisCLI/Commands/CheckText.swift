import ArgumentParser
import CrisisCore
import Foundation

/// `crisis check-text --channel NAME TEXT [--json]`
struct CheckTextCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-text",
        abstract: "Measure a text against a channel's length rules (X weighting, SMS encoding and segments).",
        discussion: """
            Channels with rules: x, sms, facebook, instagram, linkedin, threads, tiktok, youtube. Other channels \
            have no limit. Exit status 1 when the text is over the limit (for SMS: more than 10 messages).
            """)

    @Option(help: "The channel: x, sms, facebook, instagram, linkedin, threads, tiktok, youtube, ...")
    var channel: String
    @OptionGroup var display: DisplayOptions
    @Argument(help: "The text to measure.") var text: String
    @Flag(help: "Print the measure as JSON.") var json = false

    func run() async throws {
        let m = ChannelLength.measure(text, channel: channel)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(m)
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        } else {
            FileHandle.standardOutput.write(Data((Self.describe(m) + "\n").utf8))
        }
        if m.overLimit { throw ExitCode(ExitStatus.refused) }
    }

    /// `x: 45 of 280 weighted characters`, `sms: 162 GSM-7 septets, 2 messages (single message: 160)`.
    static func describe(_ m: ChannelMeasure) -> String {
        let unit = m.unit.replacingOccurrences(of: "-", with: " ")
        if let encoding = m.encoding, let segments = m.segments {
            let single = encoding == "GSM-7" ? 160 : 70
            let messages = segments == 1 ? "1 message" : "\(segments) messages"
            var line = "\(m.channel): \(m.count) \(unit), \(encoding), \(messages) (one message holds \(single))"
            if m.overLimit { line += "; over the limit of \(ChannelLength.maxSMSSegments) messages" }
            return line
        }
        guard let limit = m.limit else { return "\(m.channel): \(m.count) \(unit) (no limit)" }
        let verdict = m.overLimit ? "over by \(m.count - limit)" : "fits"
        return "\(m.channel): \(m.count) of \(limit) \(unit), \(verdict)"
    }
}
