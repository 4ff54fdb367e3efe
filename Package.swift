// swift-tools-version: 6.1
import PackageDescription

/// Module shape (see docs/architecture.md):
///   CrisisCore      pure model + engine, Foundation only
///   CrisisPlaybook  YAML loading, validation, lint, graph (Yams)
///   CrisisAudit     canonical encoding, hash chain, the SQLite store (the only module importing GRDB)
///   CrisisRuntime   the incident runner: loader, intake, committer, effect runner, timer pump, snapshots,
///                   transports (libcurl for HTTP and SMTP, through the CCurl system library)
///   CrisisCLI       commands (swift-argument-parser)
///   crisis          entry point
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "crisis",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "crisis", targets: ["crisis"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // libcurl (Debian: libcurl4-openssl-dev): HTTP and SMTP with STARTTLS for the transports.
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(
            name: "CrisisCore", dependencies: [.product(name: "Mustache", package: "swift-mustache")],
            swiftSettings: strict),
        .target(
            name: "CrisisPlaybook",
            dependencies: ["CrisisCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict),
        .target(
            name: "CrisisAudit",
            dependencies: [
                "CrisisCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        .target(
            name: "CrisisRuntime",
            dependencies: [
                "CrisisCore", "CrisisPlaybook", "CrisisAudit", "CCurl",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        .target(
            name: "CrisisCLI",
            dependencies: [
                "CrisisCore", "CrisisPlaybook", "CrisisAudit", "CrisisRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),
        .executableTarget(name: "crisis", dependencies: ["CrisisCLI"], swiftSettings: strict),
        .executableTarget(
            name: "crisis-bench", dependencies: ["CrisisCore", "CrisisAudit", "CrisisRuntime"],
            path: "Benchmarks/crisis-bench", swiftSettings: strict),
        .testTarget(name: "CrisisCoreTests", dependencies: ["CrisisCore", "CrisisPlaybook"], swiftSettings: strict),
        .testTarget(
            name: "CrisisPlaybookTests", dependencies: ["CrisisPlaybook"],
            resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "CrisisAuditTests", dependencies: ["CrisisAudit"], swiftSettings: strict),
        .testTarget(name: "CrisisRuntimeTests", dependencies: ["CrisisRuntime"], swiftSettings: strict),
        .testTarget(
            name: "CrisisCLITests", dependencies: ["CrisisCLI", "CrisisPlaybook", "crisis"], exclude: ["Fixtures"],
            swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
