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

The witness (when the export carries checkpoint.json): a checkpoint signed by the service's
witness key (c2sp.org/tlog-checkpoint, Ed25519 checked here in pure Python after RFC 8032) over
a Merkle tree of every event of the store (RFC 9162), with an inclusion proof for each exported
event; the signature and every proof are checked. `python3 verify.py EXPORT.zip --against
BUNDLE.json` checks the export against a later checkpoint (`thidua audit checkpoint show
--stream S --out BUNDLE.json`): every event of the stream that checkpoint holds must be in the
export with the same hash, so an export of a cut or rewritten stream is found. `--key BASE64`
names the witness key to trust (else the one the checkpoint names is printed: compare it with
the published key). Exit 0 ok, 1 a finding, 2 cannot check (unreadable input, another key).
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import zipfile
import zlib
from typing import IO, Any

GENESIS = bytes(32)


# ---- Ed25519 verification (RFC 8032, section 5.1.7; the reference code, pure Python) --------

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _recover_x(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    if x2 % _P == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    return _P - x if (x & 1) != sign else x


def _add(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    p = _P
    aa = (a[1] - a[0]) * (b[1] - b[0]) % p
    bb = (a[1] + a[0]) * (b[1] + b[0]) % p
    cc = 2 * a[3] * b[3] * _D % p
    dd = 2 * a[2] * b[2] % p
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % p, g * h % p, f * g % p, e * h % p)


def _mul(s: int, point: tuple[int, ...]) -> tuple[int, ...]:
    q = (0, 1, 1, 0)
    while s:
        if s & 1:
            q = _add(q, point)
        point = _add(point, point)
        s >>= 1
    return q


def _point(s: bytes) -> tuple[int, ...] | None:
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    x = _recover_x(y & ((1 << 255) - 1), y >> 255)
    return None if x is None else (x, y & ((1 << 255) - 1), 1, x * (y & ((1 << 255) - 1)) % _P)


_GY = 4 * pow(5, _P - 2, _P) % _P
_G = (_recover_x(_GY, 0) or 0, _GY, 1, (_recover_x(_GY, 0) or 0) * _GY % _P)


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    if len(public) != 32 or len(signature) != 64:
        return False
    a, r = _point(public), _point(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % _L
    sb, rha = _mul(s, _G), _add(r, _mul(h, a))
    return ((sb[0] * rha[2] - rha[0] * sb[2]) % _P == 0
            and (sb[1] * rha[2] - rha[1] * sb[2]) % _P == 0)


# ---- the checkpoint (c2sp.org/tlog-checkpoint, signed note) and RFC 9162 proofs -------------


class CannotCheck(Exception):
    """The input cannot be checked (unreadable, another key): exit 2."""


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def leaf_hash(stream: str, version: int, stored_hash: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + f"{stream}\n{version}\n".encode() + stored_hash).digest()


def inclusion_ok(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def check_note(note: str, key: bytes | None) -> tuple[str, int, bytes, bytes]:
    """(origin, size, root, key) of a checkpoint signed by `key` (or by the key it names when
    `key` is None, returned for the caller to compare). CannotCheck / ValueError otherwise."""
    body, sep, sigs = note.partition("\n\n")
    lines = body.split("\n")
    if not sep or len(lines) < 3 or not lines[1].isdigit():
        raise CannotCheck("the checkpoint is not a signed note of a tree")
    origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2])
    for line in sigs.split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[1] != origin:
            continue
        sig = base64.b64decode(parts[2])
        if key is not None:
            kid = hashlib.sha256(origin.encode() + b"\n\x01" + key).digest()[:4]
            if sig[:4] != kid:
                raise CannotCheck("the checkpoint is signed with another key than the one given")
            if not ed25519_verify(key, (body + "\n").encode(), sig[4:]):
                raise ValueError("bad signature: the checkpoint was changed after it was signed")
            return origin, size, root, key
    raise CannotCheck(f"the checkpoint carries no signature by {origin}")


def check_bundle(bundle: Any, stream: object, key: bytes | None
                 ) -> tuple[list[str], dict[int, str], bytes]:
    """(problems, {version: hash hex} the checkpoint holds of the stream, the key) of a
    checkpoint bundle (checkpoint.json of an export, or `--against`)."""
    if not isinstance(bundle, dict) or not isinstance(bundle.get("leaves"), list):
        raise CannotCheck("not a checkpoint bundle")
    if bundle.get("stream") != stream:
        raise CannotCheck(f"the checkpoint bundle is of stream {bundle.get('stream')!r}, not"
                          f" {stream!r}")
    try:
        named = base64.b64decode(str(bundle.get("public_key")), validate=True)
    except ValueError:
        raise CannotCheck("the checkpoint bundle's public key is not base64") from None
    given = key if key is not None else named
    if named != given:
        raise CannotCheck("the checkpoint names another witness key than the one given")
    try:
        _, size, root, used = check_note(str(bundle.get("checkpoint")), given)
    except ValueError as exc:
        if "bad signature" in str(exc):
            return [f"checkpoint: {exc}"], {}, given
        raise CannotCheck(f"the checkpoint is unreadable ({exc})") from None
    problems: list[str] = []
    held: dict[int, str] = {}
    for leaf in bundle["leaves"]:
        try:
            version, h, index = int(leaf["version"]), str(leaf["hash"]), int(leaf["index"])
            proof = [bytes.fromhex(x) for x in leaf["proof"]]
            ok = inclusion_ok(index, size, leaf_hash(str(stream), version, bytes.fromhex(h)),
                              proof, root)
        except (KeyError, TypeError, ValueError):
            raise CannotCheck("the checkpoint bundle has an unreadable leaf") from None
        if not ok:
            problems.append(f"checkpoint: version {version} is not in the signed tree (its"
                            " inclusion proof fails)")
        held[version] = h
    return problems, held, used


def canonical(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def verify_zip(path: str | IO[bytes], witness_key: bytes | None = None
               ) -> tuple[list[str], dict[str, object]]:
    """(problems, manifest): no problems means the export is intact. The first problem is the
    earliest bad line. `path` may also be an open binary file (e.g. io.BytesIO)."""
    problems: list[str] = []
    try:
        with zipfile.ZipFile(path) as z:
            manifest = json.loads(z.read("manifest.json"))
            lines = z.read("events.jsonl").split(b"\n")
            hash_lines = z.read("hashes.txt").decode("ascii").split()
            minutes = z.read("minutes.pdf") if "minutes.pdf" in z.namelist() else None
            witnessed = (json.loads(z.read("checkpoint.json"))
                         if "checkpoint.json" in z.namelist() else None)
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
    if witnessed is not None:
        more, held, key = check_bundle(witnessed, stream, witness_key)
        problems += more
        exported = {first_version + n: h for n, h in enumerate(hash_lines)}
        problems += compare(held, exported, stream, "the signed checkpoint")
        manifest["_witness_key"] = base64.b64encode(key).decode()
        manifest["_witnessed"] = len(held)
    return problems, manifest


def against(path: str, bundle_path: str, key: bytes | None) -> tuple[list[str], int]:
    """An export against a later checkpoint: every event of its stream that the checkpoint holds
    is in the export with the same hash. (problems, events the checkpoint holds)."""
    try:
        with open(bundle_path, "rb") as f:
            bundle = json.loads(f.read())
        with zipfile.ZipFile(path) as z:
            manifest = json.loads(z.read("manifest.json"))
            hash_lines = z.read("hashes.txt").decode("ascii").split()
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        raise CannotCheck(f"unreadable input: {exc}") from None
    problems, held, _ = check_bundle(bundle, manifest.get("stream"), key)
    first = manifest.get("first_version", 1)
    exported = {first + n: h for n, h in enumerate(hash_lines)}
    return problems + compare(held, exported, manifest.get("stream"),
                              "the later checkpoint"), len(held)


def compare(held: dict[int, str], exported: dict[int, str], stream: object, what: str
            ) -> list[str]:
    """What the export lacks against the events of its stream a checkpoint holds."""
    problems = []
    missing = [v for v in sorted(held) if v not in exported]
    if missing and min(exported, default=1) <= missing[0]:
        problems.append(f"{what} holds versions {missing[0]}..{missing[-1]} of {stream}, the "
                        f"export ends at version {max(exported, default=0)} (a cut export)")
    for version in sorted(held):
        if version in exported and exported[version] != held[version]:
            problems.append(f"version {version}: the export's hash differs from {what}'s (a"
                            " rewritten export)")
            break
    return problems


def main(argv: list[str]) -> int:
    args, key, bundle = list(argv[1:]), None, None
    try:
        for flag in ("--key", "--against"):
            if flag in args:
                i = args.index(flag)
                value = args[i + 1]
                del args[i:i + 2]
                if flag == "--key":
                    key = base64.b64decode(value, validate=True)
                else:
                    bundle = value
    except (IndexError, ValueError):
        args = []
    if len(args) != 1:
        print("usage: python3 verify.py EXPORT.zip [--against BUNDLE.json] [--key BASE64]",
              file=sys.stderr)
        return 2
    try:
        problems, manifest = verify_zip(args[0], key)
        held = None
        if bundle is not None and not problems:
            problems, held = against(args[0], bundle, key)
    except CannotCheck as exc:
        print(f"CANNOT CHECK: {exc}")
        return 2
    if problems:
        print(f"FAILED: {problems[0]}")
        for p in problems[1:]:
            print(f"  also: {p}")
        return 1
    witnessed = ""
    if "_witness_key" in manifest:
        witnessed = (f"; {manifest['_witnessed']} events in the signed checkpoint of witness key"
                     f" {manifest['_witness_key']}")
    if held is not None:
        witnessed += f"; all {held} events of the later checkpoint present"
    print(f"ok: {manifest['stream']}: {manifest['count']} events, chain intact, "
          f"last hash {manifest['last_hash']}{witnessed}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
