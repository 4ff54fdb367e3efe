"""Wall-clock jumps on a LIVE incident (T21), with libfaketime (`faketime -f`): one hour back, one day forward
(timers fire), back to the real clock (now a day "behind" the incident), and back to 1970.

Pass: every command succeeds; exactly the records written while the wall clock was behind the incident's
clock carry `clock_anomaly` (and no others); records stay in seq order (1..N contiguous, `log --json` in seq
order) even though their `at` times are not; the engine's clock never goes backwards; verify ok.
"""
from __future__ import annotations

import os

from lib.common import Result, SuiteError, ensure_tool, verify_ok


def run(ctx) -> Result:
    ft = ensure_tool("faketime", "faketime")
    if not ft:
        return Result("clock", True, "faketime missing (apt-get install faketime); run as root to install it", skipped=True)
    d = ctx.tempdir("clock")
    db = os.path.join(d, "db.sqlite")
    cli = ctx.cli(db, env={"FAKETIME_DONT_FAKE_MONOTONIC": "1"})
    incident = cli.start_mini(drill=False)
    # (label, faketime spec or None, args, expect anomaly)
    plan = [
        ("real clock", None, ["note", incident, "before any jump"], False),
        ("1 h back", "-1h", ["note", incident, "wall clock one hour back"], True),
        ("1 h back, act", "-1h", ["act", incident, "triage", "choose", "--set", "option=serious", "--role",
                                  "comms"], True),
        ("real again", None, ["note", incident, "wall clock right again"], False),
        ("1 day forward", "+1d", ["tick", incident], False),
        ("real after +1d", None, ["note", incident, "a day behind the incident"], True),
        ("1970", "@1970-01-01 00:00:05", ["note", incident, "wall clock at the epoch"], True),
        ("+2 d", "+2d", ["note", incident, "two days ahead"], False),
    ]
    problems = []
    expected: dict[str, bool] = {}
    for k, (label, spec, args, anomaly) in enumerate(plan):
        key = f"clock-{k}"
        prefix = [ft, "-f", spec] if spec else None
        r = cli.run(args + ["--idempotency-key", key] if args[0] != "tick" else args, prefix=prefix)
        if r.status != 0:
            problems.append(f"{label}: {r.describe()}")
            continue
        if args[0] != "tick":
            expected[key] = anomaly
    recs = cli.log_json(incident)
    seqs = [r["seq"] for r in recs]
    if seqs != list(range(1, len(seqs) + 1)):
        problems.append(f"log --json is not in contiguous seq order: {seqs}")
    flagged = 0
    for rec in recs:
        body = rec.get("body") or {}
        key = rec.get("idem")
        has = "clock_anomaly" in body
        if key in expected:
            if expected[key] and not has:
                problems.append(f"record {rec['seq']} ({key}) written with the wall clock behind is not flagged")
            if has and not expected[key]:
                problems.append(f"record {rec['seq']} ({key}) flagged although the clock did not go back")
        elif has and rec.get("type") not in ("operator.action", "action.intent", "action.outcome", "timer.fired"):
            problems.append(f"record {rec['seq']} ({rec.get('type')}) flagged unexpectedly")
        flagged += has
    ats = [r.get("at") for r in recs]
    nows = [(r.get("body") or {}).get("now") for r in recs]
    nows = [n for n in nows if isinstance(n, int)]
    if any(b < a for a, b in zip(nows, nows[1:])):
        problems.append(f"the engine clock ('now') went backwards: {nows}")
    out_of_order = sum(1 for a, b in zip(ats, ats[1:]) if b < a)
    if out_of_order == 0:
        problems.append("test did not move the wall clock (no record has an earlier 'at' than its predecessor): "
                        "is libfaketime working?")
    ok_v, why = verify_ok(cli, incident)
    if not ok_v:
        problems.append(f"verify: {why}")
    st = cli.run(["status", incident, "--json"])
    if st.status != 0:
        problems.append(f"status: {st.describe()}")
    want = sum(1 for v in expected.values() if v)
    figure = (f"{len(recs)} records, {out_of_order} with an earlier wall time than their predecessor; "
              f"{flagged} flagged clock_anomaly ({want} expected); seq order kept; verify "
              f"{'ok' if ok_v else 'FAILED'}")
    return Result("clock", not problems, figure, problems)
