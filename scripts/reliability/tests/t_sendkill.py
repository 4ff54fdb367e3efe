"""Watchers killed while they send (T14): live incidents page over a real HTTP transport (a local server that
answers after 150 ms) while `crisis watch` processes are killed with SIGKILL at random moments and restarted. The
pages are made by commands while a watcher runs (queued for it), by the watchers' own timers, and by commands
with no watcher running (sent by the command).

Pass: no delivery reaches the server twice (each Idempotency-Key at most once); every delivery recorded `sent`
reached it exactly once; every delivery's results follow one of the allowed paths (`sent`; `queued`, `sending`,
`sent`; or stopped by a kill: in doubt, `sending` or no result at all, and then at most one request); no delivery
is claimed twice; a claimed delivery with no end names a watcher that was killed; intents with no result at
most one per kill; nothing left `queued` after the last `watch --once`;
every incident reaches its end; `crisis verify` ok; `PRAGMA integrity_check` ok. Figure: kills, pages sent,
pages in doubt.
"""
from __future__ import annotations

import json
import re
import os
import random
import signal
import subprocess
import sys
import time

from lib.common import ROOT, Result, SuiteError, integrity_check, verify_ok
from tests import t_watchkill

LEVELS = 6
LONGEST = 2

# The watchkill test's escalation chain, under its own id.
PLAYBOOK = t_watchkill.PLAYBOOK.replace("id: watch-kill", "id: send-kill").replace("Watcher kill test", "Sender kill test")

CONTACTS = """schema: crisis-contacts/v1
timezone: Europe/Oslo
people:
  kari.lead:
    name: Kari Lead
    roles: [lead]
    channels:
      - {type: sms, address: "+47 900 00 001"}
"""


def run(ctx) -> Result:
    incidents = ctx.pick(6, 20)
    kills = ctx.pick(15, 120)
    d = ctx.tempdir("sendkill")
    db = os.path.join(d, "send.sqlite")
    pb = os.path.join(d, "chain.yaml")
    contacts = os.path.join(d, "contacts.yaml")
    levels = "\n".join('      - {targets: ["role:lead"], ack_timeout: "%ds", channels: [sms]}' % random.randint(1, LONGEST)
                       for _ in range(LEVELS))
    with open(pb, "w") as f:
        f.write(PLAYBOOK % levels)
    with open(contacts, "w") as f:
        f.write(CONTACTS)
    server_dir = os.path.join(d, "http")
    os.makedirs(server_dir)
    server = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "Tests/CrisisCLITests/Fixtures/transports/http_server.py"), server_dir,
         "600"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        port_file = os.path.join(server_dir, "port")
        for _ in range(200):
            if os.path.exists(port_file):
                break
            time.sleep(0.05)
        else:
            raise SuiteError("the local HTTP server did not start")
        port = open(port_file).read().strip()
        transports = os.path.join(d, "transports.yaml")
        with open(transports, "w") as f:
            f.write("schema: crisis-transports/v1\ntransports:\n"
                    f'  sms: {{type: http, method: POST, url: "http://127.0.0.1:{port}/slow/150", '
                    'form: {to: "{{to}}", text: "{{text}}"}, deadline: 10s}\n'
                    "channels: {sms: sms}\n")
        cli = ctx.cli(db, env={"CRISIS_TRANSPORTS": transports})
        return _run(ctx, cli, db, pb, contacts, incidents, kills, server_dir)
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def _run(ctx, cli, db, pb, contacts, incidents, kills, server_dir) -> Result:
    ids = []
    watchers: list = []
    landed = 0
    killed: set[int] = set()

    def start_one():
        r = cli.run(["start", pb, "--contacts", contacts])
        if r.status != 0:
            raise SuiteError("crisis start failed: " + r.describe())
        ids.append(r.last_line)

    # The first incident with no watcher: `start` sends its own page. Then with watchers coming and going.
    start_one()
    deadline = time.monotonic() + 60 + kills * 2
    for i in range(kills):
        while len(watchers) < random.choice((1, 1, 2)):
            watchers.append(cli.popen(["watch", "--poll", "0.1"]))
        if len(ids) < incidents:
            time.sleep(random.uniform(0.0, 0.3))
            start_one()  # while a watcher runs: queued for it
        time.sleep(random.uniform(0.05, 0.6))
        victim = watchers.pop(random.randrange(len(watchers)))
        if victim.poll() is None:
            os.killpg(victim.pid, signal.SIGKILL)
            landed += 1
            killed.add(victim.pid)
        victim.communicate()
        if random.random() < 0.3:
            time.sleep(random.uniform(0.3, 1.5))  # nobody watching: what is queued waits, timers come due
        if time.monotonic() > deadline:
            break
    for w in watchers:
        if w.poll() is None:
            os.killpg(w.pid, signal.SIGKILL)
            landed += 1
            killed.add(w.pid)
        w.communicate()
    while len(ids) < incidents:
        start_one()  # no watcher: the command sends it
    time.sleep(LEVELS * LONGEST + 1)
    once = cli.run(["watch", "--once"], timeout=120)
    problems: list[str] = []
    if once.status != 0:
        problems.append("watch --once: " + once.describe())

    requests: dict[str, int] = {}
    with open(os.path.join(server_dir, "requests.jsonl")) as f:
        for line in f:
            key = json.loads(line).get("headers", {}).get("Idempotency-Key", "")
            requests[key] = requests.get(key, 0) + 1
    twice = {k: n for k, n in requests.items() if n > 1}
    if twice:
        problems.append(f"{len(twice)} deliveries reached the server more than once: {sorted(twice.items())[:3]}")

    sent = doubt = unmarked = 0
    allowed_ends = (["sent"], ["queued", "sending", "sent"])
    for incident in ids:
        records = cli.log_json(incident)
        intents = [r["body"]["key"] for r in records if r["type"] == "action.intent"]
        results: dict[str, list[str]] = {k: [] for k in intents}
        claims: dict[str, str] = {}
        for r in records:
            if r["type"] == "action.outcome":
                results.setdefault(r["body"]["key"], []).append(r["body"]["result"])
                if r["body"]["result"] == "sending":
                    claims[r["body"]["key"]] = r["body"].get("detail", "")
        for key, path in results.items():
            n = requests.get(key, 0)
            if path in allowed_ends:
                sent += 1
                if n != 1:
                    problems.append(f"{incident}: {key} recorded sent, but the server saw it {n} times")
            elif path == ["queued", "sending"]:
                # Claimed and never ended: its sender must be a watcher that was killed (a watcher sends several
                # at once, so one kill may leave several in doubt).
                doubt += 1
                m = re.search(r"\(pid (\d+) on ", claims.get(key, ""))
                if not m or int(m.group(1)) not in killed:
                    problems.append(f"{incident}: {key} in doubt, claimed by a sender that was not killed: "
                                    f"{claims.get(key)}")
                if n > 1:
                    problems.append(f"{incident}: {key} in doubt, but sent {n} times")
            elif path == []:
                # An intent with no result: its writer was killed between the two (at most one per kill).
                doubt += 1
                unmarked += 1
                if n > 0:
                    problems.append(f"{incident}: {key} has no result, but reached the server {n} times")
            else:
                problems.append(f"{incident}: {key} has the results {path}")
        status = cli.status(incident)
        if status["status"] != "closed":
            problems.append(f"{incident}: still {status['status']}")
        ok, why = verify_ok(cli, incident)
        if not ok:
            problems.append(f"{incident}: verify failed: {why}")
    if unmarked > landed:
        problems.append(f"{unmarked} deliveries with no result after {landed} kills")
    if sent == 0:
        problems.append("nothing was sent: the test did not exercise the transport")
    ic = integrity_check(db)
    if ic != "ok":
        problems.append("integrity_check: " + ic)
    figure = (f"{landed} sender kills, {sent} pages sent once each, {doubt} left in doubt, "
              f"0 of {sum(requests.values())} requests a repeat" if not twice else f"{len(twice)} sent twice")
    return Result(name="sendkill", ok=not problems, figure=figure, details=problems[:10])
