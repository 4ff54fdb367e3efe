"""An independent encoder for the "crisis-audit JCS v1" profile (RFC 8785 JCS, restricted), written from the
specification rather than from crisis' Swift code, so that the two can check each other.

Profile: member names ASCII [a-z0-9_]+, sorted (by UTF-16 code units, which for ASCII is byte order); integers
within +-(2^53-1) only (no floats, no -0); strings valid UTF-8 without NUL, escaped exactly as JCS says
(\\" \\\\ \\b \\t \\n \\f \\r, other C0 controls as lowercase \\u00xx, everything else raw); no normalisation;
duplicate member names are an error.
"""
from __future__ import annotations

import json
import re

MAX_INT = 2**53 - 1
NAME = re.compile(r"[a-z0-9_]+\Z")
_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


class NotCanonical(ValueError):
    pass


def _string(s: str, path: str) -> str:
    out = ['"']
    for ch in s:
        c = ord(ch)
        if ch in _SHORT:
            out.append(_SHORT[ch])
        elif c == 0:
            raise NotCanonical(f"{path}: NUL in string")
        elif c < 0x20:
            out.append("\\u%04x" % c)
        elif 0xD800 <= c <= 0xDFFF:
            raise NotCanonical(f"{path}: lone surrogate U+{c:04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _utf16_key(name: str):
    return name.encode("utf-16-be")


def _encode(v, path: str, out: list):
    if v is None:
        out.append("null")
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif isinstance(v, int):
        if not -MAX_INT <= v <= MAX_INT:
            raise NotCanonical(f"{path}: integer {v} outside +-(2^53-1)")
        out.append(str(v))
    elif isinstance(v, float):
        raise NotCanonical(f"{path}: floating-point number {v!r}")
    elif isinstance(v, str):
        out.append(_string(v, path))
    elif isinstance(v, list):
        out.append("[")
        for i, item in enumerate(v):
            if i:
                out.append(",")
            _encode(item, f"{path}[{i}]", out)
        out.append("]")
    elif isinstance(v, dict):
        out.append("{")
        for i, k in enumerate(sorted(v, key=_utf16_key)):
            if not NAME.match(k):
                raise NotCanonical(f"{path}: member name {k!r} is not [a-z0-9_]+")
            if i:
                out.append(",")
            out.append(_string(k, path))
            out.append(":")
            _encode(v[k], f"{path}.{k}", out)
        out.append("}")
    else:
        raise NotCanonical(f"{path}: unsupported type {type(v).__name__}")


def encode(value) -> bytes:
    """Canonical bytes of a JSON value (dict/list/str/int/bool/None)."""
    out: list[str] = []
    _encode(value, "$", out)
    return "".join(out).encode("utf-8")


def _no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise NotCanonical(f"duplicate member {k!r}")
        d[k] = v
    return d


def _no_floats(text):
    raise NotCanonical(f"floating-point number {text}")


def decode(data: bytes):
    """Parses JSON strictly (valid UTF-8, no duplicate members, no floats, no NaN)."""
    text = data.decode("utf-8")  # strict: invalid UTF-8 raises
    return json.loads(text, object_pairs_hook=_no_duplicates, parse_float=_no_floats,
                      parse_constant=_no_floats)


def is_canonical(data: bytes) -> tuple[bool, str]:
    try:
        v = decode(data)
        again = encode(v)
    except (NotCanonical, ValueError, UnicodeDecodeError) as e:
        return False, str(e)
    if again != data:
        i = next((k for k in range(min(len(again), len(data))) if again[k] != data[k]), min(len(again), len(data)))
        return False, f"re-encodes differently from byte {i}: {data[max(0, i - 20):i + 20]!r} vs {again[max(0, i - 20):i + 20]!r}"
    return True, ""


def self_test():
    """A few RFC 8785 / cyberphone vectors (non-float) and profile refusals; raises AssertionError on a mismatch."""
    assert encode({"b": 1, "a": [True, None, "x"]}) == b'{"a":[true,null,"x"],"b":1}'
    assert encode("\u20ac$\u000f\nA'B\"\\\\\"/") == '"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"'.encode()
    assert encode("\u007f\u0080\u2028\U0001F600") == '"\u007f\u0080\u2028\U0001F600"'.encode()
    assert encode({"a": "\x1f\x08\x0c\r\t"}) == b'{"a":"\\u001f\\b\\f\\r\\t"}'
    for bad in ({"A": 1}, 1.5, 2**53, {"a": "\x00"}, "\ud800"):
        try:
            encode(bad)
        except NotCanonical:
            continue
        raise AssertionError(f"accepted {bad!r}")
    for bad in (b'{"a":1,"a":2}', b'{"a":1.0}', b'{"b":1,"a":2}', b'{"a": 1}', b'"\\u0041"', b'"\\/"',
                b'"\\u001F"', b'"\xff"', b'\xef\xbb\xbf{}', b'{}\n'):
        ok, _ = is_canonical(bad)
        assert not ok, f"canonical? {bad!r}"
    assert is_canonical(b'{"a":"\\u001f","b":[1,-2]}')[0]
