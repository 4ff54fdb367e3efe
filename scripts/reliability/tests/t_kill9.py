"""kill -9 at random points during a series of `crisis note` calls, each with an idempotency key and retried
after the kill (T03).

Pass: 0 acknowledged notes lost, 0 duplicates (every key exactly once), seq contiguous, every retry of an
acknowledged key answers with the same record number, `crisis verify` ok, `PRAGMA integrity_check` ok, and the
incident continues (a note and an act succeed afterwards).
"""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import time

from lib.common import NOTED, Result, SuiteError, integrity_check, db_rows, percentile, verify_ok


def run(ctx) -> Result:
    kills = ctx.pick(100, 1000)
    d = ctx.tempdir("kill9")
    db = os.path.join(d, "kill9.sqlite")
    cli = ctx.cli(db)
    incident = cli.start_mini()
    details: list[str] = []

    # How long one note takes, to spread the kills over the whole command.
    warm = []
    for i in range(5):
        r = cli.run(["note", incident, f"warm-up {i}", "--idempotency-key", f"warm-{i}"])
        if r.status != 0:
            raise SuiteError("note failed before any kill: " + r.describe())
        warm.append(r.seconds)
    typical = percentile(warm, 50)
    window = typical * 1.15

    acked: dict[str, int] = {}       # key -> record number the CLI acknowledged
    landed = 0                        # kills that hit a running process
    finished_first = 0
    unacked_commits = 0
    problems: list[str] = []
    for i in range(kills):
        key = f"kill-{i}"
        text = f"note {i} {random.randrange(10**9)}"
        p = cli.popen(["note", incident, text, "--idempotency-key", key])
        # Half the kills anywhere, half in the last stretch where the commit and the answer happen.
        time.sleep(random.uniform(0, window) if random.random() < 0.5 else random.uniform(0.6 * typical, window))
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        if p.returncode == -signal.SIGKILL:
            landed += 1
            # Did the killed process commit before dying (a commit without an acknowledgement)?
            con = sqlite3.connect(db, timeout=10)
            try:
                if con.execute("SELECT 1 FROM audit_event WHERE idempotency_key = ?", (key,)).fetchone():
                    unacked_commits += 1
            finally:
                con.close()
        if p.returncode == 0:
            m = NOTED.search(out)
            if not m:
                problems.append(f"{key}: exit 0 without 'noted as record': {out[:200]!r}")
            else:
                acked[key] = int(m.group(1))
            finished_first += 1
        elif p.returncode not in (-signal.SIGKILL,):
            problems.append(f"{key}: first attempt exit {p.returncode}: {err.decode(errors='replace')[:300]}")
        # Retry with the same key until acknowledged (as an operator or a script would).
        for attempt in range(3):
            r = cli.run(["note", incident, text, "--idempotency-key", key])
            if r.status == 0:
                m = NOTED.search(r.stdout)
                if not m:
                    problems.append(f"{key}: retry exit 0 without 'noted as record'")
                    break
                seq = int(m.group(1))
                if key in acked and acked[key] != seq:
                    problems.append(f"{key}: acknowledged as record {acked[key]}, retry says {seq}")
                acked.setdefault(key, seq)
                break
            problems.append(f"{key}: retry {attempt + 1} failed: {r.describe()}")
        else:
            problems.append(f"{key}: never acknowledged after 3 retries")

    rows = db_rows(db, incident)
    seqs = [r[0] for r in rows]
    contiguous = seqs == list(range(1, len(seqs) + 1))
    by_key: dict[str, list[int]] = {}
    for seq, typ, idem, _ in rows:
        by_key.setdefault(idem, []).append(seq)
    lost = [k for k in acked if k not in by_key]
    wrong = [k for k in acked if k in by_key and by_key[k][0] != acked[k]]
    dups = [k for k, v in by_key.items() if len(v) > 1]
    missing_keys = [f"kill-{i}" for i in range(kills) if f"kill-{i}" not in by_key]
    ok_verify, why_verify = verify_ok(cli, incident)
    integrity = integrity_check(db)

    # The incident continues.
    after = cli.run(["note", incident, "after the kills", "--idempotency-key", "after"])
    act = cli.run(["act", incident, "triage", "choose", "--set", "option=serious", "--role", "comms",
                   "--idempotency-key", "after-act"])
    continues = after.status == 0 and act.status == 0
    if not continues:
        problems.append("incident does not continue: " + (after.describe() if after.status else act.describe()))
    ok_verify2, why_verify2 = verify_ok(cli, incident)

    if not contiguous:
        problems.append(f"seq not contiguous: {seqs[:50]}")
    if lost:
        problems.append(f"acknowledged but lost: {lost[:10]}")
    if wrong:
        problems.append(f"acknowledged record number differs from the stored one: {wrong[:10]}")
    if dups:
        problems.append(f"duplicated keys: {dups[:10]}")
    if missing_keys:
        problems.append(f"keys never stored although retried to success: {missing_keys[:10]}")
    if not ok_verify or not ok_verify2:
        problems.append(f"verify: {why_verify or why_verify2}")
    if integrity != "ok":
        problems.append(f"integrity_check: {integrity}")

    ok = not problems
    figure = (f"{landed} kills landed ({kills} runs, {finished_first} finished first, {unacked_commits} killed after "
              f"their commit); "
              f"{len(lost)} acknowledged lost, {len(dups)} duplicates, verify {'ok' if ok_verify and ok_verify2 else 'FAILED'}, "
              f"integrity {integrity if integrity == 'ok' else 'FAILED'}")
    details.append(f"typical note {typical * 1000:.0f} ms; kill window 0-{window * 1000:.0f} ms; {len(rows)} records")
    return Result("kill9", ok, figure, details + problems)
