import ArgumentParser

public struct CrisisCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "crisis")
    public init() {}
    public func run() async throws {}
}
