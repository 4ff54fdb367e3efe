"""I/O errors and a full disk (T05/T06): strace `inject=fdatasync:error=EIO`, `inject=pwrite64:error=ENOSPC`
(at each Nth call once, and from the first call on), and `prlimit --fsize` (RLIMIT_FSIZE) during `crisis note`.

Pass, for every case: exit non-zero with a clear message naming the operation on standard error, never
"noted as record" for a failed commit (an acknowledged note must be in the database afterwards), no crash by
signal, the database intact (`verify` ok, `integrity_check` ok), and the next command works (the same note,
retried with its key, is recorded exactly once).
"""
from __future__ import annotations

import os
import re
import shutil

from lib.common import NOTED, Result, SuiteError, db_rows, ensure_tool, integrity_check, verify_ok

OPERATION = re.compile(r"(append|commit|write|sync|open|record|save|insert|transaction|read)", re.I)
PROBLEM = re.compile(r"(I/O|disk|full|space|error|failed|cannot|file size|too large|limit)", re.I)


def run(ctx) -> Result:
    if not ensure_tool("strace", "strace"):
        return Result("ioerrors", True, "strace missing; run as root to install it", skipped=True)
    prlimit = ensure_tool("prlimit", "util-linux")
    base = ctx.tempdir("io")
    seed_dir = os.path.join(base, "seed")
    os.makedirs(seed_dir)
    seed_db = os.path.join(seed_dir, "db.sqlite")
    cli = ctx.cli(seed_db)
    incident = cli.start_mini()
    for i in range(3):
        r = cli.run(["note", incident, f"before faults {i}", "--idempotency-key", f"pre-{i}"])
        if r.status != 0:
            raise SuiteError("note failed: " + r.describe())

    # How many fdatasync and pwrite64 calls one note makes.
    trace = os.path.join(base, "trace")
    r = cli.run(["note", incident, "counted", "--idempotency-key", "counted"],
                prefix=["strace", "-f", "-qq", "-s", "0", "-o", trace, "-e", "trace=pwrite64,fdatasync,fsync"])
    if r.status != 0:
        raise SuiteError("traced note failed: " + r.describe())
    text = open(trace, errors="replace").read()
    n_sync = len(re.findall(r"\bfdatasync\(", text))
    n_write = len(re.findall(r"\bpwrite64\(", text))

    cases = []
    for n in range(1, n_sync + 1):
        cases.append((f"fdatasync EIO #{n}", ["strace", "-f", "-qq", "-o", "/dev/null", "-e",
                                               f"inject=fdatasync:error=EIO:when={n}"], "x"))
    cases.append(("fdatasync EIO always", ["strace", "-f", "-qq", "-o", "/dev/null", "-e",
                                           "inject=fdatasync:error=EIO:when=1+"], "x"))
    write_points = list(range(1, n_write + 1))
    if not ctx.full and len(write_points) > 40:
        write_points = sorted(set([1, 2, 3, n_write // 2, n_write - 1, n_write]))
    for n in write_points:
        cases.append((f"pwrite64 ENOSPC #{n}", ["strace", "-f", "-qq", "-o", "/dev/null", "-e",
                                                f"inject=pwrite64:error=ENOSPC:when={n}"], "x"))
    cases.append(("pwrite64 ENOSPC always", ["strace", "-f", "-qq", "-o", "/dev/null", "-e",
                                             "inject=pwrite64:error=ENOSPC:when=1+"], "x"))
    cases.append(("pwrite64 EIO always", ["strace", "-f", "-qq", "-o", "/dev/null", "-e",
                                          "inject=pwrite64:error=EIO:when=1+"], "x"))
    if prlimit:
        # Room to open the database, but a 95 KB note (the largest allowed is 100,000 bytes) must grow the WAL
        # (about 25 frames of 4 KiB) past the limit.
        limit = max(os.path.getsize(seed_db), 32768) + 4096
        cases.append((f"RLIMIT_FSIZE {limit // 1024} KiB", [prlimit, f"--fsize={limit}:{limit}"], "y" * 95_000))
    problems: list[str] = []
    refused = 0
    acknowledged = 0
    completed: list[str] = []
    for k, (name, prefix, payload) in enumerate(cases):
        d = os.path.join(base, f"case{k}")
        shutil.copytree(seed_dir, d)
        db = os.path.join(d, "db.sqlite")
        c = ctx.cli(db)
        key = f"fault-{k}"
        note = f"fault case {name} {payload}"
        hit = ""
        if prefix[0] == "strace":
            tr = os.path.join(d, "strace.out")
            prefix = prefix[:4] + [tr, "-y", "-s", "0"] + prefix[5:]
        # Long texts go through standard input (one argv string is limited to 128 KiB).
        args = ["note", incident, "-" if len(note) > 100_000 else note, "--idempotency-key", key]
        stdin = note.encode() if len(note) > 100_000 else None
        r = c.run(args, prefix=prefix, stdin=stdin)
        if prefix[0] == "strace" and os.path.exists(tr):
            m = re.search(r"^\S+\s+(\w+)\(\d+<([^>]*)>.*INJECTED", open(tr, errors="replace").read(), re.M)
            hit = f" ({m.group(1)} on {os.path.basename(m.group(2)) or m.group(2)})" if m else " (not injected)"
        said_noted = NOTED.search(r.stdout) is not None
        rows = db_rows(db, incident)
        stored = [row for row in rows if row[2] == key]
        if r.status == 0:
            acknowledged += 1
            completed.append(name + hit)
            if not said_noted:
                problems.append(f"{name}: exit 0 without 'noted as record'")
            if not stored:
                problems.append(f"{name}: acknowledged but not in the database")
        else:
            refused += 1
            err = r.err.strip()
            if r.status < 0 or r.status > 128:
                problems.append(f"{name}: killed by signal {-r.status if r.status < 0 else r.status - 128} "
                                f"instead of a clear error (stderr: {err[:200]!r})")
            elif not (err and OPERATION.search(err) and PROBLEM.search(err)):
                problems.append(f"{name}: unclear error message: {err[:300]!r}")
            if said_noted:
                problems.append(f"{name}: printed 'noted as record' but exited {r.status}")
        integ = integrity_check(db)
        if integ != "ok":
            problems.append(f"{name}: integrity_check after the fault: {integ}")
        ok_v, why = verify_ok(c, incident)
        if not ok_v:
            problems.append(f"{name}: verify after the fault: {why}")
        # The next command works: retry the same note with the same key.
        r2 = c.run(args, stdin=stdin)
        if r2.status != 0:
            problems.append(f"{name}: the retry after the fault failed: {r2.describe()}")
        else:
            rows = db_rows(db, incident)
            n = sum(1 for row in rows if row[2] == key)
            if n != 1:
                problems.append(f"{name}: after the retry the note is stored {n} times")
        ok_v, why = verify_ok(c, incident)
        if not ok_v:
            problems.append(f"{name}: verify after the retry: {why}")
        ctx.log(f"{name}{hit}: exit {r.status}: {r.err.strip()[:160]}")
    ok = not problems
    figure = (f"{len(cases)} fault cases ({n_sync} fdatasync and {n_write} pwrite64 per note): {refused} refused "
              f"with a message, {acknowledged} completed; {len(problems)} problems")
    details = [f"completed despite the fault (SQLite ignores a failed directory sync; a checkpoint after the "
               f"commit is not the commit): {', '.join(completed) or 'none'}"]
    return Result("ioerrors", ok, figure, details + problems)
