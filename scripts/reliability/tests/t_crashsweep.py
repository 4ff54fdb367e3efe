"""Deterministic crash sweep (T04/T20): SIGKILL injected by strace at the Nth pwrite64, fdatasync or fsync of
each command of a whole drill of mini.yaml (start, choose, draft, approve, publish: deliveries, notify, end).

For every crash point: run the commands before it normally, crash the command under strace
(`-e inject=SYSCALL:signal=SIGKILL:when=N`), then resume as an operator would: rerun the crashed command and
the rest with the same idempotency keys (for `start`, look for the incident in `list --json` first), and
settle any delivery left in doubt with `confirm_delivery`. The final `status --json` (minus ids and seq) must
equal the uncrashed run's, `verify` and `integrity_check` must pass, and no delivery may have been performed
(recorded outcome) or intended twice.

strace counts injections per syscall and per thread; the reference run records how many of each syscall each
command makes, and the sweep covers N = 1..max. The ci tier samples the pwrite64 points (every fdatasync/fsync
point is kept); the full tier covers every N.
"""
from __future__ import annotations

import collections
import json
import os
import re
import shutil
import subprocess

from lib.common import (DRILL_CLOCK, MINI, MINI_POST, Result, SuiteError, ensure_tool, integrity_check,
                        verify_ok)

SYSCALLS = ("pwrite64", "fdatasync", "fsync")
LINE = re.compile(r"^(\d+)\s+(?:\d+:\d+:\d+\.\d+\s+)?([a-z0-9_]+)\(")


def commands(incident: str | None):
    """The drill, as argument lists; {ID} is the incident."""
    i = incident or "{ID}"
    return [
        ["start", MINI, "--set", MINI_POST, "--drill", "--clock", DRILL_CLOCK, "--as", "kari"],
        ["act", i, "triage", "choose", "--set", "option=serious", "--role", "comms", "--as", "kari",
         "--idempotency-key", "c1"],
        ["act", i, "statement", "draft", "--set", "what_we_know.nb=En falsk konto poster i vårt navn.",
         "--set", "what_we_know.en=A fake account posts in our name.", "--role",
         "comms", "--as", "kari", "--idempotency-key", "c2"],
        ["act", i, "statement", "approve", "--role", "legal", "--as", "ola", "--idempotency-key", "c3"],
        ["act", i, "statement", "publish", "--role", "comms", "--as", "kari", "--idempotency-key", "c4"],
        ["note", i, "wrap-up: all channels done", "--as", "kari", "--idempotency-key", "c5"],
    ]


def copy_db(src_dir: str, dst_dir: str):
    os.makedirs(dst_dir, exist_ok=True)
    for name in os.listdir(src_dir):
        if name.startswith("db.sqlite"):
            shutil.copy2(os.path.join(src_dir, name), os.path.join(dst_dir, name))


def normalise(status: dict, incident: str) -> str:
    s = dict(status)
    s.pop("seq", None)
    text = json.dumps(s, sort_keys=True, ensure_ascii=False)
    return text.replace(incident, "<ID>")


def settle(cli, incident: str, problems: list, tag: str) -> int:
    """Confirms every delivery left in doubt (intent recorded, no outcome). Returns how many."""
    settled = 0
    for _ in range(6):
        st = cli.status(incident)
        doubt = [d for d in st.get("deliveries", []) if d.get("in_doubt")]
        if not doubt:
            return settled
        for d in doubt:
            r = cli.run(["act", incident, d["step"], "confirm_delivery", "--set", f"key={d['key']}",
                         "--set", "result=sent", "--as", "kari", "--idempotency-key", f"settle-{d['key']}"])
            if r.status != 0:
                problems.append(f"{tag}: settling {d['key']} failed: {r.describe()}")
                return settled
            settled += 1
    problems.append(f"{tag}: deliveries still in doubt after settling")
    return settled


def key_recorded(cli, incident: str, key: str) -> bool:
    return any(rec.get("idem") == key for rec in cli.log_json(incident))


def field(body: dict, name: str):
    """A field of an action body (fields are an array of {name, value})."""
    for f in body.get("fields") or []:
        if isinstance(f, dict) and f.get("name") == name:
            return f.get("value")
    return None


def delivery_counts(cli, incident: str):
    """Per delivery key (incident id stripped): intents recorded, and how often it was performed or settled
    (an action.outcome record, or a confirm_delivery by an operator)."""
    intents = collections.Counter()
    done = collections.Counter()
    for rec in cli.log_json(incident):
        body = rec.get("body") or {}
        if rec.get("type") == "action.intent":
            intents[str(body.get("key")).replace(incident, "<ID>")] += 1
        elif rec.get("type") == "action.outcome":
            done[str(body.get("key")).replace(incident, "<ID>")] += 1
        elif rec.get("type") == "operator.action" and body.get("action") == "confirm_delivery":
            done[str(field(body, "key")).replace(incident, "<ID>")] += 1
    return intents, done


def run(ctx) -> Result:
    if not ensure_tool("strace", "strace"):
        return Result("crashsweep", True, "strace missing (apt-get install strace); run as root to install it", skipped=True)
    base = ctx.tempdir("sweep")
    ref_dir = os.path.join(base, "ref")
    os.makedirs(ref_dir)
    ref_db = os.path.join(ref_dir, "db.sqlite")
    cli = ctx.cli(ref_db)

    # Reference run: snapshot before each command, count the syscalls of each command per thread.
    counts: list[dict[str, int]] = []
    threads_seen = 0
    incident = None
    n_cmds = len(commands(None))
    for i in range(n_cmds):
        snap = os.path.join(base, f"snap{i}")
        copy_db(ref_dir, snap)
        args = commands(incident)[i]
        trace = os.path.join(base, f"trace{i}")
        r = cli.run(args, prefix=["strace", "-f", "-qq", "-s", "0", "-o", trace, "-e", "trace=" + ",".join(SYSCALLS)])
        if r.status != 0:
            raise SuiteError(f"reference command {i} failed: {r.describe()}")
        if i == 0:
            incident = r.last_line
        per = collections.Counter()
        tids = set()
        with open(trace, errors="replace") as f:
            for line in f:
                if "resumed>" in line:
                    continue
                m = LINE.match(line)
                if m and m.group(2) in SYSCALLS:
                    per[(m.group(2), m.group(1))] += 1
                    tids.add(m.group(1))
        threads_seen = max(threads_seen, len(tids))
        counts.append({s: max([c for (sc, _), c in per.items() if sc == s] or [0]) for s in SYSCALLS})
    ref_status = normalise(cli.status(incident), incident)
    ok_ref, why_ref = verify_ok(cli, incident)
    if not ok_ref:
        raise SuiteError("reference run does not verify: " + why_ref)
    ref_intents, ref_outcomes = delivery_counts(cli, incident)

    points = [(i, s, n) for i in range(n_cmds) for s in SYSCALLS for n in range(1, counts[i][s] + 1)]
    if not ctx.full:
        budget = 48
        syncs = [p for p in points if p[1] != "pwrite64"]
        writes = [p for p in points if p[1] == "pwrite64"]
        room = max(budget - len(syncs), 8)
        if len(writes) > room:
            step = len(writes) / room
            writes = [writes[int(k * step)] for k in range(room)]
        points = sorted(syncs + writes)

    problems: list[str] = []
    crashed = 0
    no_crash = 0
    equal = 0
    in_doubt_total = 0
    dup_deliveries = 0
    retry_refused = 0
    retry_examples: list[str] = []
    for (i, sysc, n) in points:
        tag = f"cmd{i}/{sysc}#{n}"
        tdir = os.path.join(base, "trial")
        shutil.rmtree(tdir, ignore_errors=True)
        copy_db(os.path.join(base, f"snap{i}"), tdir)
        tcli = ctx.cli(os.path.join(tdir, "db.sqlite"))
        inc = incident if i > 0 else None
        args = commands(inc)[i]
        r = tcli.run(args, prefix=["strace", "-f", "-qq", "-o", "/dev/null",
                                   "-e", f"inject={sysc}:signal=SIGKILL:when={n}"])
        if r.status == 0:
            no_crash += 1
            if i == 0:
                inc = r.last_line
        elif r.status in (-9, 137):
            crashed += 1
        else:
            problems.append(f"{tag}: crashed command exit {r.status}: {r.err[:300]}")
        # Resume.
        if i == 0 and inc is None:
            lst = tcli.run(["list", "--json"])
            if lst.status != 0:
                problems.append(f"{tag}: list after crash failed: {lst.describe()}")
                continue
            rows = lst.json()
            if len(rows) > 1:
                problems.append(f"{tag}: {len(rows)} incidents after one start")
                continue
            if rows:
                inc = rows[0]["id"]
            else:
                r2 = tcli.run(commands(None)[0])
                if r2.status != 0:
                    problems.append(f"{tag}: start after crash failed: {r2.describe()}")
                    continue
                inc = r2.last_line
        first = i if i > 0 else 1
        failed = False
        for j in range(first, n_cmds):
            if j == 5:
                in_doubt_total += settle(tcli, inc, problems, tag)
            args_j = commands(inc)[j]
            r3 = tcli.run(args_j)
            if r3.status != 0:
                key = args_j[args_j.index("--idempotency-key") + 1] if "--idempotency-key" in args_j else None
                if j == i and r3.status == 1 and key and key_recorded(tcli, inc, key):
                    # The crashed command had committed; its retry should answer with the recorded event.
                    retry_refused += 1
                    if retry_refused <= 2:
                        retry_examples.append(f"{tag}: {r3.err.strip()[:160]}")
                    continue
                problems.append(f"{tag}: resumed command {j} failed: {r3.describe()}")
                failed = True
                break
        if failed:
            continue
        in_doubt_total += settle(tcli, inc, problems, tag)
        st = normalise(tcli.status(inc), inc)
        if st == ref_status:
            equal += 1
        else:
            problems.append(f"{tag}: final state differs from the uncrashed run: {diff(ref_status, st)}")
        ok_v, why_v = verify_ok(tcli, inc)
        if not ok_v:
            problems.append(f"{tag}: verify: {why_v}")
        integ = integrity_check(os.path.join(tdir, "db.sqlite"))
        if integ != "ok":
            problems.append(f"{tag}: integrity_check: {integ}")
        intents, outcomes = delivery_counts(tcli, inc)
        twice = [k for k, c in list(intents.items()) + list(outcomes.items()) if c > 1]
        if twice:
            dup_deliveries += 1
            problems.append(f"{tag}: delivery intended or performed twice: {twice}")
        if set(intents) != set(ref_intents) or set(outcomes) != set(ref_outcomes):
            problems.append(f"{tag}: deliveries {sorted(intents)}/{sorted(outcomes)} differ from the uncrashed "
                            f"run's {sorted(ref_intents)}/{sorted(ref_outcomes)}")

    total_points = sum(sum(c.values()) for c in counts)
    known = []
    if retry_refused:
        known.append(
            f"`crisis act` retried with the idempotency key of an action that was already recorded is refused "
            f"(exit 1, and an input.rejected record is added) instead of answering with the recorded event: "
            f"{retry_refused} resumes hit it, e.g. {retry_examples[0]}. Repro: run `crisis act ID triage choose "
            f"--set option=serious --role comms --idempotency-key K` twice; the second exits 1 'step triage is not "
            f"active'")
    ok = not problems and crashed > 0 and not retry_refused
    figure = (f"{crashed} crashes at {len(points)} of {total_points} points "
              f"({', '.join(f'{s} {sum(c[s] for c in counts)}' for s in SYSCALLS)}); "
              f"{equal}/{len(points)} same final state; {in_doubt_total} in doubt settled; "
              f"{dup_deliveries} duplicate deliveries")
    details = [f"per command counts: {counts}; threads issuing them (max): {threads_seen}",
               f"{no_crash} points did not crash (count differs from the reference run)"]
    if retry_refused:
        figure += f"; {retry_refused} idempotent retries refused (product bug)"
    return Result("crashsweep", ok, figure, details + problems, known_bugs=known)


def diff(a: str, b: str) -> str:
    i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
    return f"at char {i}: expected …{a[max(0, i - 60):i + 60]}… got …{b[max(0, i - 60):i + 60]}…"
