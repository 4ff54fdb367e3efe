"""Tampering (T12/T13).

1. Bit flips over whole copies of a closed database file (ci: 1,000 random bits; full: every bit). A flip
   that leaves every table row and the schema unchanged (unused bytes, free space; checked independently with
   Python's sqlite3) is harmless. Every other flip must make `crisis verify` fail (exit 3, or a clear error);
   a flip that changed content and still verifies is UNDETECTED (must be 0), and no flip may crash verify.
2. Attacks that rebuild a valid chain, so `verify` alone cannot see them (nothing in the file disagrees):
   a rewrite with recomputed hashes (the suite's own Python re-hasher, following docs/audit-format.md),
   truncation of the tail, truncation and then new records (truncate-and-continue), and rollback to an older
   copy. They are caught only against a head kept outside the database: the test keeps `verify --json`'s head
   and record count from before, and afterwards recomputes the entry hash at that record from `log --json`.
   If `crisis` offers its own external anchor (a checkpoint command or a verify option), it is used too;
   if not, that is reported as a product gap.
3. Edits that `verify` must catch by itself: a record byte changed without re-hashing (exit 3 naming the
   record), and the append-only triggers dropped.
"""
from __future__ import annotations

import concurrent.futures
import os
import random
import re
import shutil
import subprocess

from lib import audit, jcs
from lib.common import Result, SuiteError, verify_ok


def build_base(ctx, d):
    db = os.path.join(d, "base.sqlite")
    cli = ctx.cli(db)
    incident = cli.start_mini()
    steps = [
        ["act", incident, "triage", "choose", "--set", "option=serious", "--role", "comms", "--as", "kari"],
        ["act", incident, "statement", "draft", "--set", "what_we_know.nb=Falsk konto.", "--set", "what_we_know.en=Fake account.", "--role", "comms",
         "--as", "kari"],
    ]
    for s in steps:
        r = cli.run(s)
        if r.status != 0:
            raise SuiteError(r.describe())
    for i in range(12):
        r = cli.run(["note", incident, f"note {i}: some evidence text \u00e6\u00f8\u00e5 {i * 7919}", "--as", "ingrid"])
        if r.status != 0:
            raise SuiteError(r.describe())
        if i == 5:
            shutil.copy2(db, os.path.join(d, "older.sqlite"))
    for i in range(4):
        r = cli.run(["note", incident, f"late note {i}", "--as", "ingrid"])
        if r.status != 0:
            raise SuiteError(r.describe())
    for ext in ("-wal", "-shm"):
        if os.path.exists(db + ext):
            raise SuiteError(f"{db}{ext} left after every command exited")
    return db, incident


def anchor(cli, incident):
    r = cli.verify(incident)
    if r.status != 0:
        raise SuiteError("verify of the untouched copy failed: " + r.describe())
    item = r.json()[0]
    return {"records": item["records"], "head": item["head"]}


def anchor_check(cli, incident, kept) -> tuple[bool, str]:
    """True if the kept head exposes the current trail: fewer records than kept, or a different entry hash at
    the kept record (recomputed from the exact bytes `log --json` prints)."""
    r = cli.run(["log", incident, "--json"])
    if r.status != 0:
        return True, f"log --json fails ({r.status})"
    body = r.stdout
    # log --json is "[\n" + records joined by ",\n" + "\n]\n"; the records are the exact hashed bytes.
    records = jcs.decode(body)
    if len(records) < kept["records"]:
        return True, f"{len(records)} records, {kept['records']} anchored"
    rec = records[kept["records"] - 1]
    h = audit.entry_hash(jcs.encode(rec)).hex()
    if h != kept["head"]:
        return True, f"entry hash at record {kept['records']} is {h[:12]}…, anchored {kept['head'][:12]}…"
    return False, "matches the kept head"


def take_checkpoint(ctx, db, incident, outside) -> tuple[str | None, str | None]:
    """`crisis checkpoint`: the note (kept in `outside`, away from the database) and the verifier key."""
    note = os.path.join(outside, "checkpoint.note")
    r = ctx.cli(db).run(["checkpoint", incident, "--output", note])
    if r.status != 0 or not os.path.exists(note):
        return None, None
    m = re.search(r"verifier key:\s*(\S+)", r.err)
    return note, (m.group(1) if m else None)


def crisis_anchor_support(ctx) -> str | None:
    """Which external-anchor facility the binary offers, if any (a checkpoint subcommand or a verify option)."""
    c = ctx.cli("/nonexistent")
    top = c.run(["--help"]).out + c.run(["help"]).out
    if re.search(r"^\s+checkpoint\b", top, re.M):
        return "checkpoint"
    v = ctx.cli("/nonexistent").run(["verify", "--help"]).out
    for opt in ("--checkpoint", "--anchor", "--expect-head", "--head"):
        if opt in v:
            return "verify " + opt
    return None


def evidence_diff(a: dict, b: dict) -> str:
    """Which evidence query, row and columns differ (for the report)."""
    for qi, (ra, rb) in enumerate(zip(a["evidence"], b["evidence"])):
        if ra == rb:
            continue
        what = audit.EVIDENCE_QUERIES[qi].split(" FROM ")[1].split()[0]
        if len(ra) != len(rb):
            return f"{what}: {len(ra)} rows became {len(rb)}"
        for n, (x, y) in enumerate(zip(ra, rb)):
            if x != y:
                cols = [k for k, (u, v) in enumerate(zip(x, y)) if u != v]
                show = [(x[c][:40] if isinstance(x[c], bytes) else x[c], y[c][:40] if isinstance(y[c], bytes) else y[c])
                        for c in cols[:2]]
                return f"{what} row {n + 1} columns {cols}: {show}"
    return "evidence differs"


def flip_worker(args):
    (i, base_bytes, pos, bit, workdir, binary, incident, orig_dump, ctx_env) = args
    data = bytearray(base_bytes)
    data[pos] ^= 1 << bit
    path = os.path.join(workdir, f"flip{i}.sqlite")
    with open(path, "wb") as f:
        f.write(data)
    try:
        dump = audit.logical_dump(path)
        if dump == orig_dump:
            return ("harmless", pos, bit, "")
        evidence_changed = dump is None or dump["evidence"] != orig_dump["evidence"]
        p = subprocess.run([binary, "verify", "--db", path, incident, "--json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60, env=ctx_env)
        if p.returncode < 0:
            return ("crash", pos, bit, f"signal {-p.returncode}: {p.stderr[-300:]!r}")
        if p.returncode == 0:
            if evidence_changed:
                keep = os.path.join(os.path.dirname(workdir), f"undetected-{pos}-{bit}.sqlite")
                shutil.copy(path, keep)
                return ("undetected", pos, bit, (evidence_diff(orig_dump, dump) if dump is not None
                                                  else "unreadable by sqlite3") + f"; kept as {keep}")
            return ("metadata", pos, bit, ",".join(audit.changed_tables(orig_dump, dump)))
        if p.returncode == 3:
            return ("exit3", pos, bit, "")
        msg = p.stderr.decode(errors="replace").strip()
        if not msg:
            return ("silent", pos, bit, f"exit {p.returncode} with no message")
        return ("error", pos, bit, msg[:200])
    except subprocess.TimeoutExpired:
        return ("crash", pos, bit, "timeout")
    finally:
        for ext in ("", "-wal", "-shm", "-journal"):
            try:
                os.remove(path + ext)
            except FileNotFoundError:
                pass


def run(ctx) -> Result:
    d = ctx.tempdir("tamper")
    db, incident = build_base(ctx, d)
    cli = ctx.cli(db)
    facility = crisis_anchor_support(ctx)
    outside = ctx.tempdir("tamper-outside")
    note, verifier = take_checkpoint(ctx, db, incident, outside) if facility == "checkpoint" else (None, None)
    kept = anchor(cli, incident)
    problems: list[str] = []
    details: list[str] = []
    known_bugs: list[str] = []
    py = audit.connect(db, immutable=True)
    try:
        chain_problems = audit.check_chain(py, incident)
    finally:
        py.close()
    if chain_problems:
        problems.append(f"the Python re-implementation disagrees with crisis on the untouched trail: {chain_problems}")

    # 1. Bit flips.
    base_bytes = open(db, "rb").read()
    orig_dump = audit.logical_dump(db)
    nbits = len(base_bytes) * 8
    env_flips = os.environ.get("RELIABILITY_FLIPS")
    if ctx.full and not env_flips:
        positions = [(b // 8, b % 8) for b in range(nbits)]
    else:
        n = int(env_flips or 1000)
        positions = [(random.randrange(len(base_bytes)), random.randrange(8)) for _ in range(n)]
    workdir = os.path.join(d, "flips")
    os.makedirs(workdir)
    env = dict(cli.env)
    jobs = [(i, base_bytes, pos, bit, workdir, ctx.binary, incident, orig_dump, env)
            for i, (pos, bit) in enumerate(positions)]
    counts = {"harmless": 0, "exit3": 0, "error": 0, "undetected": 0, "crash": 0, "silent": 0, "metadata": 0}
    bad_examples = []
    metadata_tables: dict[str, int] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as ex:
        for kind, pos, bit, why in ex.map(flip_worker, jobs, chunksize=4):
            counts[kind] += 1
            if kind == "metadata":
                for t in why.split(","):
                    metadata_tables[t] = metadata_tables.get(t, 0) + 1
            if kind in ("undetected", "crash", "silent") and len(bad_examples) < 10:
                bad_examples.append(f"{kind}: byte {pos} bit {bit}: {why}")
    if counts["undetected"] or counts["crash"] or counts["silent"]:
        problems.append(f"bit flips: {counts['undetected']} undetected, {counts['crash']} crashes, "
                        f"{counts['silent']} silent failures: {bad_examples}")

    # 2. Valid-chain attacks, caught only by a head kept elsewhere.
    attacks = []
    cp_args = (["--checkpoint", note] + (["--verifier-key", verifier] if verifier else [])) if note else []
    if note:
        v = cli.run(["verify", incident] + cp_args)
        if v.status != 0:
            problems.append(f"control: the untouched trail fails verify --checkpoint: {(v.out + v.err).strip()[:300]}")

    def attack(name, prepare):
        path = os.path.join(d, f"{name}.sqlite")
        shutil.copy2(db, path)
        prepare(path)
        c = ctx.cli(path)
        v = c.verify(incident)
        caught_by_verify = v.status != 0
        caught_by_cp = None
        if note:
            vc = c.run(["verify", incident] + cp_args)
            caught_by_cp = vc.status == 3
            if vc.status not in (0, 3):
                problems.append(f"{name}: verify --checkpoint exit {vc.status}: {(vc.out + vc.err).strip()[:200]}")
        caught_by_anchor, why = anchor_check(c, incident, kept)
        attacks.append((name, caught_by_verify, caught_by_anchor, why, caught_by_cp))

    def rewrite(path, strip=True):
        # A full attacker removes the stored checkpoints first (else verify alone sees the mismatch).
        if strip:
            audit.strip_checkpoints(path, incident)
        seq = kept["records"] - 3

        def mutate(rec):
            rec["body"]["text"] = "this note was rewritten after the fact"
            return rec
        audit.rewrite(path, incident, seq, mutate)
        con = audit.connect(path)
        try:
            left = audit.check_chain(con, incident)
        finally:
            con.close()
        if left:
            problems.append(f"the suite's re-hasher left a broken chain (test bug): {left}")

    def naive_rewrite(path):
        rewrite(path, strip=False)

    def truncate(path):
        audit.strip_checkpoints(path, incident)
        audit.truncate(path, incident, kept["records"] - 3)

    def truncate_continue(path):
        audit.strip_checkpoints(path, incident)
        audit.truncate(path, incident, kept["records"] - 3)
        c = ctx.cli(path)
        for i in range(5):
            r = c.run(["note", incident, f"continued {i}", "--as", "mallory"])
            if r.status != 0:
                problems.append(f"truncate-and-continue: crisis refused to append: {r.describe()}")
                break

    def rollback(path):
        shutil.copy2(os.path.join(d, "older.sqlite"), path)

    def resign(path):
        # The attacker also holds the signing key (next to the database) and signs the rewritten trail.
        rewrite(path)
        r = ctx.cli(path).run(["checkpoint", incident])
        if r.status != 0:
            problems.append(f"rewrite-and-resign: crisis checkpoint failed: {r.describe()}")

    attack("naive rewrite", naive_rewrite)
    attack("rewrite", rewrite)
    attack("rewrite-and-resign", resign)
    attack("truncate", truncate)
    attack("truncate-continue", truncate_continue)
    attack("rollback", rollback)
    for name, by_verify, by_anchor, why, by_cp in attacks:
        cp_text = "" if by_cp is None else f"; verify --checkpoint: {'caught (exit 3)' if by_cp else 'NOT caught'}"
        details.append(f"{name}: verify alone {'fails it' if by_verify else 'passes it'}{cp_text}; kept head: "
                       f"{'caught' if by_anchor else 'NOT caught'} ({why})")
        if by_cp is False:
            problems.append(f"{name}: `crisis verify --checkpoint` with the note kept outside does not detect it")
        if not by_anchor and not by_verify and not by_cp:
            problems.append(f"{name}: not detected even against the kept head")
    undetected_alone = [a[0] for a in attacks if not a[1]]
    gap = None
    if undetected_alone and not note:
        gap = ("no external anchor in crisis: `verify` has no option to check against a kept head/checkpoint and "
               "there is no checkpoint command, so " + ", ".join(undetected_alone) +
               " pass `crisis verify`; only a head copied elsewhere by hand exposes them")
        details.append("product gap: " + gap)

    # Forged and altered notes must be refused.
    if note:
        text = open(note, encoding="utf-8").read()
        lines = text.split("\n")
        altered = os.path.join(outside, "altered.note")
        lines[1] = str(int(lines[1]) - 1)
        with open(altered, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        other = ctx.tempdir("tamper-other-key")
        forged = os.path.join(outside, "forged.note")
        fdb = os.path.join(other, "copy.sqlite")
        shutil.copy2(db, fdb)
        # The same records signed with another key (the copy's stored checkpoints removed, see below).
        audit.strip_checkpoints(fdb, incident)
        r = ctx.cli(fdb).run(["checkpoint", incident, "--output", forged])
        # A second key of the same (default) name must not be handed the first key's note.
        other2 = ctx.tempdir("tamper-second-key")
        sdb = os.path.join(other2, "copy.sqlite")
        shutil.copy2(db, sdb)
        second = os.path.join(outside, "second.note")
        r2 = ctx.cli(sdb).run(["checkpoint", incident, "--output", second])
        m = re.search(r"verifier key:\s*(\S+)", r2.err)
        if r2.status == 0 and m:
            v2 = ctx.cli(sdb).run(["verify", incident, "--checkpoint", second, "--verifier-key", m.group(1)])
            if v2.status != 0:
                problems.append("`crisis checkpoint` with a second key prints the first key's stored note (stored "
                                "checkpoints are matched by key name, not key id), so its own verifier key "
                                f"rejects it: {(v2.out + v2.err).strip()[:160]}")
                known_bugs.append(
                    "checkpoints are matched by key name, not key: after a new key of the default name 'crisis' "
                    "(another key file, or a copied database), `crisis checkpoint` returns the old key's stored "
                    "note while printing the new verifier key, and `verify --checkpoint NOTE --verifier-key KEY` "
                    "then fails. Repro: checkpoint a db, copy it to another directory, `crisis checkpoint ID --db "
                    "copy` and verify its note with the printed key")
        for label, path in (("altered note", altered), ("note signed with another key", forged)):
            if not os.path.exists(path):
                problems.append(f"{label}: could not be made ({r.err.strip()[:120]})")
                continue
            v = cli.run(["verify", incident, "--checkpoint", path] + (["--verifier-key", verifier] if verifier else []))
            if v.status == 0:
                problems.append(f"{label}: accepted by verify --checkpoint")
            details.append(f"{label}: verify --checkpoint exit {v.status}")

    # 3. Edits verify must catch alone.
    path = os.path.join(d, "edit.sqlite")
    shutil.copy2(db, path)
    con = audit.connect(path)
    try:
        target = kept["records"] - 5
        row = con.execute("SELECT record FROM audit_event WHERE incident_id = ? AND seq = ?", (incident, target)).fetchone()
        rec = bytes(row[0]).replace(b"note", b"nope", 1)
        trig = con.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name='audit_event'").fetchall()
        con.execute("BEGIN")
        for name, _ in trig:
            con.execute(f'DROP TRIGGER "{name}"')
        con.execute("UPDATE audit_event SET record = ? WHERE incident_id = ? AND seq = ?", (rec, incident, target))
        for _, sql in trig:
            con.execute(sql)
        con.execute("COMMIT")
    finally:
        con.close()
    v = ctx.cli(path).run(["verify", incident])
    edit_ok = v.status == 3 and f"record {target}" in v.out + v.err
    if not edit_ok:
        problems.append(f"edited record {target} without re-hash: want exit 3 naming 'record {target}', got "
                        f"{v.status}: {(v.out + v.err).strip()[:200]}")
    path = os.path.join(d, "notrig.sqlite")
    shutil.copy2(db, path)
    con = audit.connect(path)
    try:
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
            con.execute(f'DROP TRIGGER "{name}"')
    finally:
        con.close()
    v = ctx.cli(path).run(["verify", incident])
    if v.status == 0:
        problems.append("triggers dropped: verify still passes")

    if counts["metadata"]:
        details.append(f"product gap: {counts['metadata']} flips changed only data outside the chain and still "
                       f"verify (by table: {metadata_tables}); e.g. the schema's SQL text (trigger bodies, CHECKs: "
                       f"verify checks that triggers exist, not what they say) and header columns no hash covers "
                       f"(incident title, mode, playbook id/version; pinned file names; load and checkpoint times)")
    considered = len(positions) - counts["harmless"]
    figure = (f"{len(positions)} bit flips: {counts['undetected']} undetected, {counts['exit3']} exit 3, "
              f"{counts['error']} refused to open, {counts['harmless']} harmless (unused bytes), "
              f"{counts['metadata']} outside the chain, "
              f"{counts['crash']} crashes; attacks (rewrite, re-sign, truncate, truncate+continue, rollback) caught by "
              + (f"verify --checkpoint {sum(1 for a in attacks if a[4])}/{len(attacks)}, " if note else "")
              + f"by the kept head {sum(1 for a in attacks if a[2])}/{len(attacks)}, by verify alone "
              f"{sum(1 for a in attacks if a[1])}/{len(attacks)}")
    if gap:
        figure += " (product gap: no external anchor)"
    details.insert(0, f"database {len(base_bytes)} bytes, {kept['records']} records; {considered} flips changed "
                      f"content; anchor facility in crisis: {facility or 'none'}")
    return Result("tamper", not problems, figure, details + problems, known_bugs=known_bugs)
