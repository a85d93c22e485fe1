#!/usr/bin/env python3
"""Verify a thidua audit export offline: python3 verify.py EXPORT.zip

Needs only Python's standard library. Checks, line by line, that every event of events.jsonl
is canonical JSON of the hashed object, of the exported stream, at the next version, and that
sha256(hash of the previous event || line) is the hash recorded for it in hashes.txt; then that
the count and the first and last hashes are those of manifest.json, and that the minutes PDF
(if any) is the one the manifest names. Prints the first problem (naming the line) and exits
1, or prints a summary and exits 0.

The hash recipe (also in manifest.json, "recipe"):
    hash(v) = SHA-256( hash(v-1) || line(v) )        hash(0) = 32 zero bytes
    line(v) = json.dumps(H, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
              encoded as UTF-8, where H is the event's hashed object (the keys actor, data,
              effective_at, event_id, request_id, schema_version, stream, type, version).
"""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
import zlib
from typing import IO

GENESIS = bytes(32)


def canonical(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def verify_zip(path: str | IO[bytes]) -> tuple[list[str], dict[str, object]]:
    """(problems, manifest): no problems means the export is intact. The first problem is the
    earliest bad line. `path` may also be an open binary file (e.g. io.BytesIO)."""
    problems: list[str] = []
    try:
        with zipfile.ZipFile(path) as z:
            manifest = json.loads(z.read("manifest.json"))
            lines = z.read("events.jsonl").split(b"\n")
            hash_lines = z.read("hashes.txt").decode("ascii").split()
            minutes = z.read("minutes.pdf") if "minutes.pdf" in z.namelist() else None
    except (OSError, KeyError, ValueError, EOFError, RuntimeError, RecursionError,
            NotImplementedError, zlib.error, zipfile.BadZipFile) as exc:
        # (an encrypted member is a RuntimeError, a corrupt one a zlib.error)
        return [f"unreadable export: {exc}"], {}
    if not isinstance(manifest, dict):
        return ["manifest.json: not a JSON object"], {}
    first_version = manifest.get("first_version", 1)
    if not isinstance(first_version, int) or isinstance(first_version, bool) or first_version < 1:
        return ["manifest.json: first_version is not a positive integer"], {}
    if lines and lines[-1] == b"":
        lines.pop()
    stream = manifest.get("stream")
    if len(hash_lines) != len(lines):
        problems.append(f"hashes.txt has {len(hash_lines)} hashes for {len(lines)} lines")
    try:
        prev = GENESIS if first_version == 1 else bytes.fromhex(str(manifest.get("prev_hash")))
    except ValueError:
        return ["manifest.json: prev_hash is not a hash"], manifest
    for n, line in enumerate(lines, start=1):
        where = f"line {n} (version {first_version + n - 1})"
        try:
            stored = bytes.fromhex(hash_lines[n - 1])
        except (IndexError, ValueError):
            problems.append(f"{where}: no hash recorded for it")
            break
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            problems.append(f"{where}: not JSON")
            prev = stored
            continue
        if not isinstance(obj, dict) or canonical(obj) != line:
            problems.append(f"{where}: not the canonical JSON of a hashed object")
        elif obj.get("stream") != stream:
            problems.append(f"{where}: belongs to stream {obj.get('stream')!r}, not {stream!r}")
        elif obj.get("version") != first_version + n - 1:
            problems.append(f"{where}: holds version {obj.get('version')} (an event is missing "
                            "or out of order)")
        if hashlib.sha256(prev + line).digest() != stored:
            problems.append(f"{where}: its hash does not match its content")
        prev = stored
    if manifest.get("count") != len(lines):
        problems.append(f"manifest: count {manifest.get('count')}, the export holds {len(lines)}")
    if hash_lines and manifest.get("first_hash") != hash_lines[0]:
        problems.append("manifest: first_hash differs from the first event's hash")
    if hash_lines and manifest.get("last_hash") != hash_lines[-1]:
        problems.append("manifest: last_hash differs from the last event's hash")
    named = manifest.get("minutes")
    if isinstance(named, dict):
        if minutes is None:
            problems.append("manifest names minutes.pdf, the export has none")
        elif hashlib.sha256(minutes).hexdigest() != named.get("sha256"):
            problems.append("minutes.pdf: its SHA-256 differs from the manifest's")
    elif minutes is not None:
        problems.append("minutes.pdf is not named in the manifest")
    return problems, manifest


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python3 verify.py EXPORT.zip", file=sys.stderr)
        return 2
    problems, manifest = verify_zip(argv[1])
    if problems:
        print(f"FAILED: {problems[0]}")
        for p in problems[1:]:
            print(f"  also: {p}")
        return 1
    print(f"ok: {manifest['stream']}: {manifest['count']} events, chain intact, "
          f"last hash {manifest['last_hash']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
