"""Independent reading and re-hashing of a crisis audit database (docs/audit-format.md), in Python.

The hash definitions are re-implemented here from the format document:
  genesis  = SHA256("crisis-audit:v1:genesis" 0x00 utf8(incident_id) 0x00 utf8(origin) u64be(created_utc_ms)
                    playbook_sha256)
  entry(n) = SHA256("crisis-audit:v1:entry" 0x00 record_bytes(n)); record(n).prev = hex(entry(n-1))
The re-hasher rewrites a record and every later link with recomputed hashes: what an attacker holding the file
can do. Only a head kept outside the database can catch it.
"""
from __future__ import annotations

import hashlib
import sqlite3
import struct

from . import jcs

ENTRY_PREFIX = b"crisis-audit:v1:entry\x00"
GENESIS_PREFIX = b"crisis-audit:v1:genesis\x00"


def entry_hash(record: bytes) -> bytes:
    return hashlib.sha256(ENTRY_PREFIX + record).digest()


def genesis_hash(incident_id: str, origin: str, created_ms: int, playbook_sha256: bytes) -> bytes:
    return hashlib.sha256(GENESIS_PREFIX + incident_id.encode() + b"\x00" + origin.encode()
                          + struct.pack(">Q", created_ms) + playbook_sha256).digest()


def connect(db: str, write=False, immutable=False) -> sqlite3.Connection:
    """A connection. `immutable` reads a copy no one writes to (no locks, no WAL, nothing created)."""
    if immutable:
        return sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True, timeout=10, isolation_level=None)
    return sqlite3.connect(db, timeout=10, isolation_level=None)


def incident_row(con, incident: str) -> dict:
    r = con.execute("SELECT incident_id, origin, created_utc_ms, playbook_sha256, genesis_hash FROM incident "
                    "WHERE incident_id = ?", (incident,)).fetchone()
    if r is None:
        raise KeyError(incident)
    return {"id": r[0], "origin": r[1], "created_ms": r[2], "playbook_sha256": bytes(r[3]), "genesis": bytes(r[4])}


def events(con, incident: str) -> list[dict]:
    rows = con.execute("SELECT seq, event_id, idempotency_key, event_type, actor_id, record, prev_hash, entry_hash "
                       "FROM audit_event WHERE incident_id = ? ORDER BY seq", (incident,)).fetchall()
    return [{"seq": r[0], "event_id": r[1], "idem": r[2], "type": r[3], "actor": r[4], "record": bytes(r[5]),
             "prev_hash": bytes(r[6]), "entry_hash": bytes(r[7])} for r in rows]


def check_chain(con, incident: str) -> list[str]:
    """Problems found by recomputing the chain in Python (empty = the chain is intact)."""
    problems = []
    inc = incident_row(con, incident)
    g = genesis_hash(inc["id"], inc["origin"], inc["created_ms"], inc["playbook_sha256"])
    if g != inc["genesis"]:
        problems.append("genesis hash does not match the documented formula")
    prev = inc["genesis"]
    for i, e in enumerate(events(con, incident), start=1):
        if e["seq"] != i:
            problems.append(f"seq gap at {i} (found {e['seq']})")
            break
        ok, why = jcs.is_canonical(e["record"])
        if not ok:
            problems.append(f"record {i} not canonical: {why}")
        if e["prev_hash"] != prev:
            problems.append(f"record {i}: prev_hash column is not the previous entry hash")
        try:
            rec = jcs.decode(e["record"])
            if rec.get("prev") != prev.hex():
                problems.append(f"record {i}: record.prev is not hex(previous entry hash)")
            if rec.get("seq") != i:
                problems.append(f"record {i}: record.seq is {rec.get('seq')}")
        except (ValueError, UnicodeDecodeError) as x:
            problems.append(f"record {i}: unreadable ({x})")
        h = entry_hash(e["record"])
        if h != e["entry_hash"]:
            problems.append(f"record {i}: entry_hash column is not SHA256(prefix || record)")
        prev = h
    return problems


def _triggers(con, table: str) -> list[tuple[str, str]]:
    return con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                       (table,)).fetchall()


def rewrite(db: str, incident: str, seq: int, mutate) -> int:
    """Rewrites record `seq` with `mutate(record_dict)` and re-hashes every later link (dropping and restoring
    the append-only triggers around it). Returns the number of rows rewritten."""
    con = connect(db, write=True)
    try:
        con.execute("BEGIN IMMEDIATE")
        trig = _triggers(con, "audit_event")
        for name, _ in trig:
            con.execute(f'DROP TRIGGER "{name}"')
        evs = events(con, incident)
        prev = None
        n = 0
        for e in evs:
            if e["seq"] < seq:
                prev = e["entry_hash"]
                continue
            rec = jcs.decode(e["record"])
            if e["seq"] == seq:
                rec = mutate(rec)
            else:
                rec["prev"] = prev.hex()
            data = jcs.encode(rec)
            h = entry_hash(data)
            con.execute("UPDATE audit_event SET record = ?, prev_hash = ?, entry_hash = ? "
                        "WHERE incident_id = ? AND seq = ?",
                        (data, prev if prev is not None else e["prev_hash"], h, incident, e["seq"]))
            prev = h
            n += 1
        for _, sql in trig:
            con.execute(sql)
        con.execute("COMMIT")
        return n
    finally:
        con.close()


def truncate(db: str, incident: str, keep: int) -> int:
    """Deletes every record after `keep` (dropping and restoring the triggers). Returns rows deleted."""
    con = connect(db, write=True)
    try:
        con.execute("BEGIN IMMEDIATE")
        trig = _triggers(con, "audit_event")
        for name, _ in trig:
            con.execute(f'DROP TRIGGER "{name}"')
        cur = con.execute("DELETE FROM audit_event WHERE incident_id = ? AND seq > ?", (incident, keep))
        n = cur.rowcount
        for _, sql in trig:
            con.execute(sql)
        con.execute("COMMIT")
        return n
    finally:
        con.close()


def append_raw(db: str, incident: str, record: bytes, *, event_type: str, actor: str, event_id: str,
               idem: str, recorded_ms: int, actor_role=None) -> None:
    """Appends `record` as the next event with correct seq, prev_hash and entry_hash columns (the triggers
    accept it: only its canonical form or content can be wrong)."""
    con = connect(db, write=True)
    try:
        con.execute("BEGIN IMMEDIATE")
        head = con.execute("SELECT seq, entry_hash FROM audit_event WHERE incident_id = ? ORDER BY seq DESC LIMIT 1",
                           (incident,)).fetchone()
        cols = [r[1] for r in con.execute("PRAGMA table_info(audit_event)").fetchall()]
        values = {"incident_id": incident, "seq": head[0] + 1, "event_id": event_id, "idempotency_key": idem,
                  "event_type": event_type, "recorded_utc_ms": recorded_ms, "actor_id": actor, "record": record,
                  "prev_hash": bytes(head[1]), "entry_hash": entry_hash(record)}
        if "actor_role" in cols:
            values["actor_role"] = actor_role
        names = [c for c in values if c in cols]
        con.execute(f"INSERT INTO audit_event ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                    [values[c] for c in names])
        con.execute("COMMIT")
    finally:
        con.close()


def head(db: str, incident: str) -> tuple[int, bytes]:
    con = connect(db)
    try:
        r = con.execute("SELECT seq, entry_hash FROM audit_event WHERE incident_id = ? ORDER BY seq DESC LIMIT 1",
                        (incident,)).fetchone()
        return (r[0], bytes(r[1])) if r else (0, b"")
    finally:
        con.close()


EVIDENCE_QUERIES = [
    # Everything the chain, the genesis hash or a pinned-file hash covers (read in table order).
    "SELECT * FROM audit_event ORDER BY rowid",
    "SELECT incident_id, origin, created_utc_ms, playbook_sha256, genesis_hash FROM incident ORDER BY rowid",
    "SELECT sha256, bytes FROM playbook_source ORDER BY rowid",
    "SELECT incident_id, position, sha256 FROM incident_file ORDER BY rowid",
    # (created_utc_ms is left out: no hash or signature covers it; reported with the other metadata)
    "SELECT incident_id, tree_size, merkle_root, chain_head, key_name, signed_note, tsa_response "
    "FROM audit_checkpoint ORDER BY rowid",
]


def logical_dump(db: str) -> dict | None:
    """{"evidence": rows the chain covers, "all": the schema and every row of every table}, for telling a
    harmless bit flip (unused bytes) from changed evidence or changed metadata. None if SQLite cannot read it."""
    try:
        con = connect(db, immutable=True)
        con.text_factory = bytes  # a flipped bit may leave invalid UTF-8 in a TEXT column
        try:
            evidence = [con.execute(q).fetchall() for q in EVIDENCE_QUERIES]
            schema = con.execute("SELECT type, name, tbl_name, rootpage, sql FROM sqlite_master ORDER BY rowid").fetchall()
            tables = [r[0].decode("utf-8", "replace") for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()]
            everything = [("schema", schema)]
            for t in tables:
                everything.append((t, con.execute('SELECT * FROM "%s" ORDER BY rowid' % t.replace('"', '""')).fetchall()))
            return {"evidence": evidence, "all": everything}
        finally:
            con.close()
    except (sqlite3.Error, ValueError):
        return None


def changed_tables(a: dict, b: dict) -> list[str]:
    return [t for (t, ra), (_, rb) in zip(a["all"], b["all"]) if ra != rb] + (
        ["(tables added or removed)"] if len(a["all"]) != len(b["all"]) else [])


def self_test():
    """The worked example of docs/audit-format.md, recomputed here."""
    playbook = b'schema: crisis/v1\nid: breach\nversion: "3"\ntitle: Data breach\n'
    sha = hashlib.sha256(playbook).digest()
    assert sha.hex() == "48d148245c49848b117c5c168ef5db97e078671033b6270f4a4bae68ddb17fac"
    g = genesis_hash("INC-1", "crisis.test/INC-1", 1761292800000, sha)
    assert g.hex() == "4e715b4377542b14243617f2492ea2c4ee0c8aec3ba3873ec632a45272274ccb", g.hex()
    r1 = jcs.encode({"actor": {"id": "alice", "role": "lead"}, "at": "2025-10-24T08:00:00.000Z",
                     "body": {"mode": "drill", "title": "Customer data exposed"},
                     "event_id": "00000000-0000-4000-8000-000000000001", "idem": "open", "incident": "INC-1",
                     "prev": g.hex(), "seq": 1, "type": "incident.opened", "v": 1,
                     "where": {"app": "crisis", "app_version": "0.1.0", "host": "test-host", "pid": 4242}})
    e1 = entry_hash(r1)
    assert e1.hex() == "8d8510af0159ce681bcbcf32ac3a8097fbd23b8b729136d6ab9ed26046d2886e", e1.hex()
    r2 = jcs.encode({"actor": {"id": "bob"}, "at": "2025-10-24T08:05:00.000Z",
                     "body": {"text": "caf\u00e9 \u2014 \"quoted\"\n2nd line"},
                     "event_id": "00000000-0000-4000-8000-000000000002", "idem": "note-1", "incident": "INC-1",
                     "prev": e1.hex(), "seq": 2, "type": "operator.note", "v": 1,
                     "where": {"app": "crisis", "app_version": "0.1.0", "host": "test-host", "pid": 4242}})
    assert entry_hash(r2).hex() == "78a27223a80661b61a7f2122b2da0aaba2fe6ec62cb27f86981656209e648b6e"


def strip_checkpoints(db: str, incident: str) -> int:
    """What an attacker does first: deletes the incident's stored checkpoints and cuts the trailing
    `checkpoint.issued` records (triggers dropped and restored). Returns the new record count."""
    con = connect(db, write=True)
    try:
        con.execute("BEGIN IMMEDIATE")
        saved = []
        for table in ("audit_event", "audit_checkpoint"):
            for name, sql in _triggers(con, table):
                saved.append(sql)
                con.execute(f'DROP TRIGGER "{name}"')
        con.execute("DELETE FROM audit_checkpoint WHERE incident_id = ?", (incident,))
        rows = con.execute("SELECT seq, event_type FROM audit_event WHERE incident_id = ? ORDER BY seq DESC",
                           (incident,)).fetchall()
        keep = rows[0][0]
        for seq, typ in rows:
            if typ != "checkpoint.issued":
                break
            keep = seq - 1
        con.execute("DELETE FROM audit_event WHERE incident_id = ? AND seq > ?", (incident, keep))
        for sql in saved:
            con.execute(sql)
        con.execute("COMMIT")
        return keep
    finally:
        con.close()
