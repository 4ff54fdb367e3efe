"""Canonical encoding through the real binary (T15).

Random records: notes with random Unicode (astral, C0/C1 controls, quotes, backslashes, bidi, combining marks,
U+2028, noncharacters, private use), random operator names, random statement facts and start inputs. Then:
- `log --json` must be exactly "[\\n" + records joined by ",\\n" + "\\n]\\n", and every record must re-encode
  byte-identically with the suite's own JCS encoder (lib/jcs.py), and equal the stored `record` BLOB;
- every text sent must come back byte-exact;
- the chain must link: record(1).prev = genesis (recomputed from the header), record(n).prev =
  hex(SHA256("crisis-audit:v1:entry" 0x00 record(n-1))), and the entry_hash column must agree;
- records inserted by hand with correct hashes but non-canonical bytes (whitespace, unsorted or duplicate
  members, \\u0041, \\/, upper-case hex, a float, a leading zero, raw control, invalid UTF-8, BOM, trailing
  newline) must each make `verify` exit 3 naming that record, while a canonical control record inserted the
  same way must verify (so the refusals are about the encoding, not the insertion).
"""
from __future__ import annotations

import os
import random
import shutil
import uuid

from lib import audit, jcs
from lib.common import Result, SuiteError, named, opt

POOLS = [
    (0x20, 0x7E), (0x01, 0x1F), (0x7F, 0x9F), (0xA0, 0x24F), (0x300, 0x36F), (0x590, 0x6FF), (0x900, 0x97F),
    (0x2000, 0x206F), (0x3040, 0x30FF), (0x4E00, 0x4FFF), (0xAC00, 0xACFF), (0xE000, 0xE0FF), (0xFE00, 0xFFFF),
    (0x10000, 0x1007F), (0x1F300, 0x1FAFF), (0x20000, 0x2A6DF), (0xE0000, 0xE007F), (0x10FF00, 0x10FFFF),
]
SPECIAL = ['"', "\\", "\\u0041", "\\\"", "/", "\n", "\r\n", "\t", "\u2028", "\u2029", "\u202e", "\u200d",
           "\ufeff", "\ufffe", "\U0001F469\u200d\U0001F469\u200d\U0001F467", "e\u0301", "\u00e9", "{", "}", ","]


def rand_text(rng: random.Random, max_len=40, controls=True) -> str:
    out = []
    for _ in range(rng.randint(1, max_len)):
        if rng.random() < 0.25:
            out.append(rng.choice(SPECIAL))
            continue
        lo, hi = rng.choice(POOLS)
        c = rng.randint(lo, hi)
        if 0xD800 <= c <= 0xDFFF or c == 0:
            c = 0x41
        if not controls and (c < 0x20 or 0x7F <= c <= 0x9F):
            c = 0x42
        out.append(chr(c))
    s = "".join(out)
    if not controls:
        s = "".join(ch for ch in s if not (ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F)) or "x"
    return s


def check_log(cli, incident, db, problems, sent_texts) -> int:
    r = cli.run(["log", incident, "--json"])
    if r.status != 0:
        raise SuiteError("log --json failed: " + r.describe())
    out = r.stdout
    records = jcs.decode(out)
    encoded = [jcs.encode(rec) for rec in records]
    expected = b"[\n" + b",\n".join(encoded) + b"\n]\n"
    if out != expected:
        i = next((k for k in range(min(len(out), len(expected))) if out[k] != expected[k]), 0)
        problems.append(f"log --json is not byte-identical to the re-encoding at byte {i}: "
                        f"{out[max(0, i - 40):i + 40]!r} vs {expected[max(0, i - 40):i + 40]!r}")
    con = audit.connect(db)
    try:
        rows = audit.events(con, incident)
        inc = audit.incident_row(con, incident)
    finally:
        con.close()
    if len(rows) != len(records):
        problems.append(f"log --json has {len(records)} records, the database {len(rows)}")
    g = audit.genesis_hash(inc["id"], inc["origin"], inc["created_ms"], inc["playbook_sha256"])
    if g != inc["genesis"]:
        problems.append("genesis_hash column differs from the documented formula")
    prev = g
    for row, enc in zip(rows, encoded):
        if row["record"] != enc:
            problems.append(f"record {row['seq']}: stored BLOB differs from the re-encoded log --json record")
        rec = jcs.decode(row["record"])
        if rec.get("prev") != prev.hex():
            problems.append(f"record {row['seq']}: prev {rec.get('prev')} is not hex(entry_hash(n-1))")
        h = audit.entry_hash(row["record"])
        if h != row["entry_hash"]:
            problems.append(f"record {row['seq']}: entry_hash column differs from SHA256(prefix 0x00 record)")
        if row["prev_hash"] != prev:
            problems.append(f"record {row['seq']}: prev_hash column is not the previous entry hash")
        prev = h
    # Texts come back byte-exact.
    by_key = {row["idem"]: jcs.decode(row["record"]) for row in rows}
    for key, (kind, text) in sent_texts.items():
        rec = by_key.get(key)
        if rec is None:
            problems.append(f"{key}: acknowledged but not found")
            continue
        body = rec.get("body", {})
        got = body.get("text") if kind == "note" else named(body.get("fields"), "what_we_know.nb")
        if got is None or got.encode("utf-8") != text.encode("utf-8"):
            problems.append(f"{key}: {kind} text not byte-exact: sent {text!r}, stored {got!r}")
    return len(records)


NONCANONICAL = {
    "space after colon": lambda b: b.replace(b'"v":1', b'"v": 1', 1),
    "unsorted members": lambda b: b.replace(b'{"actor"', b'{"zz_first":0,"actor"', 1),
    "duplicate member": lambda b: b[:-1] + b',"v":1}',
    "\\u0041 escape": lambda b: b.replace(b'"text":"', b'"text":"\\u0041', 1),
    "\\/ escape": lambda b: b.replace(b'"text":"', b'"text":"\\/', 1),
    "upper-case hex escape": lambda b: b.replace(b'"text":"', b'"text":"\\u001F', 1),
    "float": lambda b: b.replace(b'"v":1', b'"v":1.0', 1),
    "leading zero": lambda b: b.replace(b'"v":1', b'"v":01', 1),
    "raw control char": lambda b: b.replace(b'"text":"', b'"text":"\x01', 1),
    "invalid UTF-8": lambda b: b.replace(b'"text":"', b'"text":"\xff', 1),
    "overlong UTF-8": lambda b: b.replace(b'"text":"', b'"text":"\xc0\xaf', 1),
    "escaped surrogate": lambda b: b.replace(b'"text":"', b'"text":"\\ud800', 1),
    "NUL escape": lambda b: b.replace(b'"text":"', b'"text":"\\u0000', 1),
    "BOM prefix": lambda b: b"\xef\xbb\xbf" + b,
    "trailing newline": lambda b: b + b"\n",
    "upper-case member": lambda b: b.replace(b'"v":1', b'"V":1,"v":1', 1),
}


def hand_insert(ctx, db, incident, problems, details) -> tuple[int, int]:
    """Appends hand-made records (correct hashes) to copies of `db`; returns (refused, cases)."""
    con = audit.connect(db)
    try:
        rows = audit.events(con, incident)
    finally:
        con.close()
    last = jcs.decode(rows[-1]["record"])
    note_rows = [r for r in rows if r["type"] == "operator.note"]
    template = jcs.decode(note_rows[-1]["record"])
    refused = 0

    def make(tag: str) -> tuple[dict, str, str]:
        rec = dict(template)
        rec["seq"] = last["seq"] + 1
        rec["prev"] = rows[-1]["entry_hash"].hex()
        rec["event_id"] = str(uuid.uuid4())
        rec["idem"] = f"hand-{tag}"
        rec["body"] = dict(template["body"])
        rec["body"]["text"] = f"inserted by hand ({tag})"
        return rec, rec["event_id"], rec["idem"]

    def insert(path, data: bytes, rec):
        actor = rec.get("actor", {})
        c = audit.connect(path)
        try:
            # The record's "at" is the template note's, so its column must be too (verify compares them).
            ms = int(c.execute("SELECT recorded_utc_ms FROM audit_event WHERE event_id = ?",
                               (template["event_id"],)).fetchone()[0])
        finally:
            c.close()
        audit.append_raw(path, incident, data, event_type=rec["type"], actor=actor.get("id", "?"),
                         actor_role=actor.get("role"), event_id=rec["event_id"], idem=rec["idem"], recorded_ms=ms)

    # Control: a canonical record inserted the same way verifies.
    path = os.path.join(os.path.dirname(db), "control.sqlite")
    shutil.copy2(db, path)
    rec, _, _ = make("control")
    insert(path, jcs.encode(rec), rec)
    v = ctx.cli(path).run(["verify", incident])
    if v.status != 0:
        raise SuiteError("a canonical record inserted by hand does not verify, so the non-canonical cases prove "
                         f"nothing: {(v.out + v.err).strip()[:300]}")
    for k, (name, mutate) in enumerate(NONCANONICAL.items()):
        path = os.path.join(os.path.dirname(db), f"noncanon{k}.sqlite")
        shutil.copy2(db, path)
        rec, _, _ = make(f"n{k}")
        data = mutate(jcs.encode(rec))
        ok, _ = jcs.is_canonical(data)
        if ok:
            raise SuiteError(f"suite bug: mutation {name} left the record canonical")
        try:
            insert(path, data, rec)
        except Exception as e:  # the schema refused it: also a refusal, but say so
            details.append(f"non-canonical '{name}': SQLite refused the insert ({e})")
            refused += 1
            continue
        v = ctx.cli(path).run(["verify", incident])
        seq = rec["seq"]
        if v.status == 3 and f"record {seq}" in (v.out + v.err):
            refused += 1
        else:
            problems.append(f"non-canonical '{name}' at record {seq}: verify exit {v.status}: "
                            f"{(v.out + v.err).strip()[:200]}")
    return refused, len(NONCANONICAL)


def run(ctx) -> Result:
    rng = random.Random(f"{ctx.seed}/canonical")
    n_notes = ctx.pick(150, 2000)
    n_drafts = ctx.pick(10, 100)
    d = ctx.tempdir("canon")
    db = os.path.join(d, "db.sqlite")
    cli = ctx.cli(db)
    problems: list[str] = []
    details: list[str] = []
    # (Values start with "v:" here: a value starting with a combining mark is refused by --set, checked below.)
    country = "v:" + rand_text(rng, 20, controls=False)
    incident = cli.start_mini(extra=["--set", f"country={country}"])
    sent: dict[str, tuple[str, str]] = {}
    refused = 0
    r = cli.run(["act", incident, "triage", "choose", "--set", "option=serious", "--role", "comms"])
    if r.status != 0:
        raise SuiteError(r.describe())
    for i in range(n_notes):
        text = rand_text(rng, 60)
        name = rand_text(rng, 12, controls=False)
        key = f"note-{i}"
        r = cli.run(["note", *opt("--as", name), "--idempotency-key", key, "--", incident, text])
        if r.status == 0:
            sent[key] = ("note", text)
        else:
            refused += 1
            details.append(f"note {i} refused: {r.err.strip()[:160]}")
    for i in range(n_drafts):
        fact = "v:" + rand_text(rng, 80)
        key = f"draft-{i}"
        r = cli.run(["act", incident, "statement", "draft", "--set", f"what_we_know.nb={fact}", "--set", "what_we_know.en=x", "--role", "comms",
                     "--as", f"drafter{i}", "--idempotency-key", key])
        if r.status == 0:
            sent[key] = ("draft", fact)
        else:
            details.append(f"draft {i} refused: {r.err.strip()[:160]}")
    # --set NAME=VALUE splits at the first '=' byte; a value may begin with any character, including a
    # combining mark (which Swift's Character view would glue onto the '=').
    known = []
    for k, value in enumerate(["\u0301 starts with a combining acute", "\u20dd enclosing circle", "\u200d zwj"]):
        key = f"combining-{k}"
        r = cli.run(["act", incident, "statement", "draft", "--set", f"what_we_know.nb={value}", "--set", "what_we_know.en=x", "--role", "comms",
                     "--as", f"combiner{k}", "--idempotency-key", key])
        if r.status == 0:
            sent[key] = ("draft", value)
        else:
            problems.append(f"--set what_we_know.nb={value!r} refused: {r.err.strip().splitlines()[0][:160]}")
            if "NAME=VALUE" in r.err and not known:
                known.append("`--set NAME=VALUE` splits on Swift Characters, so a value starting with a combining "
                             "mark glues onto '=' and is refused ('--set needs NAME=VALUE'); with a later '=' it "
                             "splits at the wrong place. Repro: crisis act ID statement draft --set "
                             "$'what_we_know.nb=\\u0301x' --set what_we_know.en=x --role comms")
    count = check_log(cli, incident, db, problems, sent)
    v = cli.run(["verify", incident])
    if v.status != 0:
        problems.append(f"verify of the random trail failed: {(v.out + v.err).strip()[:300]}")
    hand_refused, hand_cases = hand_insert(ctx, db, incident, problems, details)
    ok = not problems
    figure = (f"{count} records ({len(sent)} random texts, {refused} refused) re-encode byte-identically: "
              f"{'yes' if not any('byte' in p for p in problems) else 'NO'}; chain ok; "
              f"{hand_refused}/{hand_cases} non-canonical hand-inserted records refused by verify")
    return Result("canonical", ok, figure, details[:10] + problems, known_bugs=known)
