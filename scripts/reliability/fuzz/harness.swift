// libFuzzer harness over the playbook loader, the validator and the contacts loader (T17).
// Built by scripts/reliability/fuzz/build.sh with -sanitize=fuzzer,address; run by `run --only fuzz`.
import CrisisCore
import CrisisPlaybook

/// One input: the bytes as a playbook (loaded, then validated when it loads) and as a contacts directory.
@_cdecl("LLVMFuzzerTestOneInput")
public func crisisFuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let loaded = PlaybookLoader.load(bytes: bytes, path: "fuzz.yaml")
    if let playbook = loaded.playbook {
        _ = PlaybookValidator.validate(playbook, baseDirectory: "/nonexistent-fuzz-dir")
    }
    _ = ContactsLoader.load(bytes: bytes, path: "contacts.yaml")
    return 0
}
