"""Shared plumbing for the reliability suite: the crisis binary, temporary directories, subprocess helpers,
tool installation, and the result type every test returns.

Python 3 standard library only (PyYAML is not needed here).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = os.path.dirname(HERE)                       # scripts/reliability
ROOT = os.path.dirname(os.path.dirname(SUITE))      # repository root
MINI = os.path.join(ROOT, "Tests", "CrisisCLITests", "Fixtures", "mini.yaml")
MINI_POST = "post_url=https://x.com/a/status/1"
DRILL_CLOCK = "2025-10-24T10:05:00+02:00"


@dataclass
class Result:
    """What one test reports: a short figure for the table, pass/fail, and detail lines for the log."""
    name: str
    ok: bool
    figure: str
    details: list[str] = field(default_factory=list)
    skipped: bool = False
    seconds: float = 0.0
    # Known product bugs this test demonstrates (kept failing on purpose, with the reason).
    known_bugs: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.skipped:
            return "SKIP"
        return "PASS" if self.ok else "FAIL"


class Ctx:
    """Per-run context: tier, binary, seed, scratch directories, and a log of detail lines."""

    def __init__(self, tier: str, binary: str, seed: int, keep: bool, verbose: bool):
        self.tier = tier
        self.full = tier == "full"
        self.binary = binary
        self.seed = seed
        self.keep = keep
        self.verbose = verbose
        self._dirs: list[str] = []

    def pick(self, ci, full):
        return full if self.full else ci

    def tempdir(self, tag: str) -> str:
        d = tempfile.mkdtemp(prefix=f"crisis-rel-{tag}-")
        self._dirs.append(d)
        return d

    def cleanup(self):
        if self.keep:
            for d in self._dirs:
                print(f"  kept {d}", file=sys.stderr)
            return
        for d in self._dirs:
            shutil.rmtree(d, ignore_errors=True)
        self._dirs.clear()

    def log(self, msg: str):
        if self.verbose:
            print(f"    {msg}", file=sys.stderr, flush=True)

    def cli(self, db: str, env: dict | None = None) -> "CLI":
        return CLI(self.binary, db, env)


@dataclass
class Run:
    args: list
    status: int          # exit status; negative = killed by that signal
    stdout: bytes
    stderr: bytes
    seconds: float

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    @property
    def last_line(self) -> str:
        lines = [l for l in self.out.splitlines() if l.strip()]
        return lines[-1].strip() if lines else ""

    def json(self):
        return json.loads(self.stdout)

    def describe(self) -> str:
        shown = [a.decode("utf-8", "backslashreplace") if isinstance(a, bytes) else a for a in self.args]
        return f"exit {self.status}: {' '.join(shown)[:300]}\n      stderr: {self.err.strip()[:400]}"


class CLI:
    """Runs the crisis binary against one database."""

    def __init__(self, binary: str, db: str, env: dict | None = None):
        self.binary = binary
        self.db = db
        self.env = dict(os.environ)
        self.env.pop("CRISIS_FAULT", None)
        self.env.pop("CRISIS_DB", None)
        self.env.pop("CRISIS_KEY", None)  # checkpoint keys stay next to each temporary database
        self.env["NO_COLOR"] = "1"
        self.env.setdefault("CRISIS_OPERATOR", "reliability")
        if env:
            self.env.update(env)

    def argv(self, args, prefix=None) -> list:
        args = list(args)
        db = [b"--db", self.db.encode()] if any(isinstance(a, bytes) for a in args) else ["--db", self.db]
        # --db goes right after the subcommand, so callers may end options with "--" (text starting with "-").
        if args and args[0] in ("validate", "graph"):
            db = []
        return list(prefix or []) + [self.binary] + args[:1] + db + args[1:]

    def run(self, args, *, env=None, prefix=None, timeout=60, stdin=None) -> Run:
        cmd = self.argv(args, prefix)
        e = self.env if env is None else {**self.env, **env}
        t0 = time.monotonic()
        try:
            if isinstance(stdin, bytes):
                p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=timeout,
                                   input=stdin)
            else:
                p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=timeout,
                                   stdin=subprocess.DEVNULL if stdin is None else stdin)
            return Run(cmd, p.returncode, p.stdout, p.stderr, time.monotonic() - t0)
        except subprocess.TimeoutExpired as x:
            return Run(cmd, -999, x.stdout or b"", (x.stderr or b"") + b"\n[timed out]", time.monotonic() - t0)

    def popen(self, args, *, env=None, prefix=None) -> subprocess.Popen:
        e = self.env if env is None else {**self.env, **env}
        return subprocess.Popen(self.argv(args, prefix), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e,
                                stdin=subprocess.DEVNULL, start_new_session=True)

    # Common commands -------------------------------------------------------------------------------------------

    def start_mini(self, drill=True, extra=None, playbook=None) -> str:
        args = ["start", playbook or MINI, "--set", MINI_POST]
        if drill:
            args += ["--drill", "--clock", DRILL_CLOCK]
        r = self.run(args + list(extra or []))
        if r.status != 0:
            raise SuiteError("crisis start failed: " + r.describe())
        return r.last_line

    def status(self, incident: str) -> dict:
        r = self.run(["status", incident, "--json"])
        if r.status != 0:
            raise SuiteError("crisis status failed: " + r.describe())
        return r.json()

    def log_json(self, incident: str) -> list:
        r = self.run(["log", incident, "--json"])
        if r.status != 0:
            raise SuiteError("crisis log --json failed: " + r.describe())
        return r.json()

    def verify(self, incident: str | None = None) -> Run:
        return self.run(["verify"] + ([incident] if incident else []) + ["--json"])


class SuiteError(Exception):
    """The suite itself could not do what it meant to (setup failed): reported as a FAIL with the reason."""


# Databases ---------------------------------------------------------------------------------------------------


def integrity_check(db: str) -> str:
    """SQLite's own integrity_check, read-only, through Python's sqlite3 (independent of crisis)."""
    try:
        con = sqlite3.connect(db, timeout=10)
        try:
            rows = con.execute("PRAGMA integrity_check").fetchall()
        finally:
            con.close()
        return "; ".join(str(r[0]) for r in rows)
    except sqlite3.Error as e:
        return f"error: {e}"


def db_rows(db: str, incident: str | None = None) -> list:
    """(seq, event_type, idempotency_key, record) of every event, in seq order."""
    con = sqlite3.connect(db, timeout=10)
    try:
        if incident:
            q = con.execute("SELECT seq, event_type, idempotency_key, record FROM audit_event "
                            "WHERE incident_id = ? ORDER BY seq", (incident,))
        else:
            q = con.execute("SELECT seq, event_type, idempotency_key, record FROM audit_event "
                            "ORDER BY incident_id, seq")
        return [(r[0], r[1], r[2], bytes(r[3])) for r in q.fetchall()]
    finally:
        con.close()


def verify_ok(cli: CLI, incident: str | None = None) -> tuple[bool, str]:
    r = cli.verify(incident)
    if r.status != 0:
        return False, r.describe() + " " + r.out[:300]
    try:
        items = r.json()
        bad = [i for i in items if not i.get("ok")]
        if bad:
            return False, f"verify --json says not ok: {bad}"
    except (ValueError, TypeError) as e:
        return False, f"verify --json unreadable ({e}): {r.out[:200]}"
    return True, ""


# Tools --------------------------------------------------------------------------------------------------------

_apt_updated = False


def ensure_tool(binary: str, package: str) -> str | None:
    """Path of `binary`, installing the Debian `package` with apt-get when missing and running as root."""
    global _apt_updated
    found = shutil.which(binary)
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if not _apt_updated:
        subprocess.run(["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _apt_updated = True
    subprocess.run(["apt-get", "install", "-y", "-qq", package], env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return shutil.which(binary)


# Figures -------------------------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def ms(x: float) -> str:
    return f"{x * 1000:.0f} ms"


def kill_group(p: subprocess.Popen, sig=signal.SIGKILL):
    try:
        os.killpg(p.pid, sig)
    except ProcessLookupError:
        pass


# "noted as record N", or for a retry whose key is already recorded "already recorded as record N".
NOTED = re.compile(rb"(?:noted|already recorded) as record (\d+)")
ESC_OR_BIDI = re.compile("[\x1b\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def named(value, name: str):
    """`name` from a record member that is either an object or an array of {name, value} (how crisis records
    fields and inputs)."""
    if isinstance(value, dict):
        return value.get(name)
    for item in value or []:
        if isinstance(item, dict) and item.get("name") == name:
            return item.get("value")
    return None


def opt(name: str, value: str) -> list[str]:
    """`--name VALUE`, or `--name=VALUE` when VALUE starts with '-' (else it would read as an option). The '='
    form is avoided otherwise: ArgumentParser splits it on Characters, so a value starting with a combining mark
    would glue onto the '='."""
    return [f"{name}={value}"] if value.startswith("-") else [name, value]
