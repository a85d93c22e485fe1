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

Bounded in memory: the members are read line by line, never whole; an export with more than
64 members, a member that unpacks to more than its bound (manifest.json 1 MB, checkpoint.json
16 MB, any other 64 MB), members that unpack to more than 256 MB together, a compression other
than stored or deflate, or a line longer than 1 MB is refused before it is inflated (exit 2,
one line naming the member and the bound). Evidence files (`evidence/<sha256>`, the files the
self-scores attach, each named by its SHA-256 in its event) are bounded apart: at most 1000,
each at most 10 MB, 2048 MB together; each must be there with the SHA-256 and size its event
records, and no other.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
import sys
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO, Any

GENESIS = bytes(32)

MB = 2**20
MAX_MEMBERS = 64
MAX_MEMBER_BYTES = 64 * MB
"""What one member may unpack to (events.jsonl, hashes.txt, minutes.pdf: read in pieces)."""
MAX_PARSED_BYTES = {"manifest.json": 1 * MB, "checkpoint.json": 16 * MB}
"""The members parsed whole as JSON, with their own (smaller) bound."""
MAX_TOTAL_BYTES = 256 * MB
EVIDENCE_PREFIX = "evidence/"
"""The evidence files the self-scores attach, one member `evidence/<sha256 hex>` each."""
MAX_EVIDENCE_MEMBERS = 1000
MAX_EVIDENCE_BYTES = 10 * MB
"""One evidence file's bound (the service takes none larger: domain/evidence.py)."""
MAX_EVIDENCE_TOTAL = 2048 * MB
MAX_LINE_BYTES = 1 * MB
MAX_PROBLEMS = 100


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
    q: tuple[int, ...] = (0, 1, 1, 0)
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
    return (sb[0] * rha[2] - rha[0] * sb[2]) % _P == 0 and (
        sb[1] * rha[2] - rha[1] * sb[2]
    ) % _P == 0


# ---- the checkpoint (c2sp.org/tlog-checkpoint, signed note) and RFC 9162 proofs -------------


class CannotCheck(Exception):
    """The input cannot be checked (unreadable, another key): exit 2."""


class TooLarge(CannotCheck):
    """The export is past a bound (a zip bomb, an over-long line): exit 2, before it is inflated.
    `code` is the rule (too_many_members, member_too_large, export_too_large,
    unsupported_compression, line_too_long), `member` the member's name, `limit` the bound."""

    def __init__(
        self, code: str, message: str, member: str | None = None, limit: int | None = None
    ) -> None:
        super().__init__(message)
        self.code, self.member, self.limit = code, member, limit


def _size(n: int) -> str:
    return f"{n // MB} MB" if n >= MB else f"{n} bytes"


def _central_directory_size(f: IO[bytes]) -> int:
    """The central directory's size from the end record (what ZipFile reads whole, before any
    member): -1 when there is no end record (not a zip: ZipFile says so)."""
    end = f.seek(0, os.SEEK_END)
    f.seek(max(0, end - 22 - 65535))
    tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return -1
    if at >= 20 and tail[at - 20 : at - 16] == b"PK\x06\x07":
        return 2**63  # a ZIP64 end record: its sizes are not needed by any export
    return int(struct.unpack("<I", tail[at + 12 : at + 16])[0])


def check_bounds(z: zipfile.ZipFile) -> None:
    """TooLarge unless every member is stored or deflated and unpacks within its bound and all
    within MAX_TOTAL_BYTES (by the sizes the zip declares: reading stops at the declared size,
    so a member cannot inflate past it)."""
    infos = z.infolist()
    files = [i for i in infos if i.filename.startswith(EVIDENCE_PREFIX)]
    others = len(infos) - len(files)
    if others > MAX_MEMBERS:
        raise TooLarge(
            "too_many_members",
            f"the export has {others} members, more than {MAX_MEMBERS}",
            None,
            MAX_MEMBERS,
        )
    if len(files) > MAX_EVIDENCE_MEMBERS:
        raise TooLarge(
            "too_many_members",
            f"the export has {len(files)} evidence files, more than {MAX_EVIDENCE_MEMBERS}",
            None,
            MAX_EVIDENCE_MEMBERS,
        )
    total = evidence = 0
    for info in infos:
        name = info.filename
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise TooLarge(
                "unsupported_compression",
                f"{name}: compressed with method "
                f"{info.compress_type}; only stored and deflate are read",
                name,
            )
        limit = (
            MAX_EVIDENCE_BYTES
            if name.startswith(EVIDENCE_PREFIX)
            else MAX_PARSED_BYTES.get(name, MAX_MEMBER_BYTES)
        )
        if info.file_size > limit:
            raise TooLarge(
                "member_too_large",
                f"{name} unpacks to {_size(info.file_size)}, more than {_size(limit)}",
                name,
                limit,
            )
        if name.startswith(EVIDENCE_PREFIX):
            evidence += info.file_size
        else:
            total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise TooLarge(
            "export_too_large",
            f"the members unpack to {_size(total)}, more than {_size(MAX_TOTAL_BYTES)}",
            None,
            MAX_TOTAL_BYTES,
        )
    if evidence > MAX_EVIDENCE_TOTAL:
        raise TooLarge(
            "export_too_large",
            f"the evidence files unpack to {_size(evidence)}, "
            f"more than {_size(MAX_EVIDENCE_TOTAL)}",
            None,
            MAX_EVIDENCE_TOTAL,
        )


def open_zip(path: str | IO[bytes]) -> zipfile.ZipFile:
    """The export's zip, its bounds checked (TooLarge) before any member is read."""
    if isinstance(path, str):
        with open(path, "rb") as f:
            directory = _central_directory_size(f)
    else:
        directory = _central_directory_size(path)
        path.seek(0)
    if directory > (MAX_MEMBERS + MAX_EVIDENCE_MEMBERS) * 1024:
        raise TooLarge(
            "too_many_members",
            f"the export's central directory is larger than "
            f"{MAX_MEMBERS + MAX_EVIDENCE_MEMBERS} KB (more than {MAX_MEMBERS} members"
            f" and {MAX_EVIDENCE_MEMBERS} evidence files) or ZIP64",
            None,
            MAX_MEMBERS,
        )
    z = zipfile.ZipFile(path)
    try:
        check_bounds(z)
    except TooLarge:
        z.close()
        raise
    return z


def read_json(z: zipfile.ZipFile, name: str) -> Any:
    """A member parsed whole (within its bound, see check_bounds)."""
    with z.open(name) as f:
        return json.loads(f.read(MAX_PARSED_BYTES.get(name, MAX_MEMBER_BYTES) + 1))


class Lines:
    """A member's lines without their newline, one at a time (`for line in Lines(z, name)`);
    TooLarge for a line longer than MAX_LINE_BYTES, found after reading at most that much of
    it. `rest()` counts the lines left without looking at them."""

    def __init__(self, z: zipfile.ZipFile, name: str) -> None:
        self.name, self.f, self.n = name, z.open(name), 0

    def __enter__(self) -> Lines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.f.close()

    def __iter__(self) -> Iterator[bytes]:
        while True:
            line = self.f.readline(MAX_LINE_BYTES + 1)
            if not line:
                return
            self.n += 1
            if line.endswith(b"\n"):
                line = line[:-1]
            elif len(line) > MAX_LINE_BYTES:
                raise TooLarge(
                    "line_too_long",
                    f"{self.name} line {self.n} is longer than {_size(MAX_LINE_BYTES)}",
                    self.name,
                    MAX_LINE_BYTES,
                )
            yield line

    def rest(self) -> int:
        n, last = 0, b"\n"
        while chunk := self.f.read(MB):
            n += chunk.count(b"\n")
            last = chunk[-1:]
        return n + (last != b"\n")


def lines_of(z: zipfile.ZipFile, name: str) -> Iterator[bytes]:
    with Lines(z, name) as lines:
        yield from lines


def hashes_of(z: zipfile.ZipFile) -> Iterator[str]:
    """The hashes of hashes.txt (whitespace-separated hex), one at a time."""
    for line in lines_of(z, "hashes.txt"):
        yield from line.decode("ascii").split()


def sha256_of(z: zipfile.ZipFile, name: str) -> str:
    h = hashlib.sha256()
    with z.open(name) as f:
        while chunk := f.read(MB):
            h.update(chunk)
    return h.hexdigest()


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


def check_bundle(
    bundle: Any, stream: object, key: bytes | None
) -> tuple[list[str], dict[int, str], bytes]:
    """(problems, {version: hash hex} the checkpoint holds of the stream, the key) of a
    checkpoint bundle (checkpoint.json of an export, or `--against`)."""
    if not isinstance(bundle, dict) or not isinstance(bundle.get("leaves"), list):
        raise CannotCheck("not a checkpoint bundle")
    if bundle.get("stream") != stream:
        raise CannotCheck(
            f"the checkpoint bundle is of stream {bundle.get('stream')!r}, not {stream!r}"
        )
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
            ok = inclusion_ok(
                index, size, leaf_hash(str(stream), version, bytes.fromhex(h)), proof, root
            )
        except (KeyError, TypeError, ValueError):
            raise CannotCheck("the checkpoint bundle has an unreadable leaf") from None
        if not ok:
            problems.append(
                f"checkpoint: version {version} is not in the signed tree (its"
                " inclusion proof fails)"
            )
        held[version] = h
    return problems, held, used


def canonical(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def verify_zip(
    path: str | IO[bytes], witness_key: bytes | None = None
) -> tuple[list[str], dict[str, object]]:
    """(problems, manifest): no problems means the export is intact. The first problem is the
    earliest bad line. `path` may also be an open binary file (e.g. io.BytesIO). TooLarge
    (a CannotCheck) for an export past the bounds."""
    try:
        with open_zip(path) as z:
            return _verify(z, witness_key)
    except (
        OSError,
        KeyError,
        ValueError,
        EOFError,
        RuntimeError,
        RecursionError,
        NotImplementedError,
        zlib.error,
        zipfile.BadZipFile,
    ) as exc:
        # (an encrypted member is a RuntimeError, a corrupt one a zlib.error or a bad CRC)
        return [f"unreadable export: {exc}"], {}


def _verify(z: zipfile.ZipFile, witness_key: bytes | None) -> tuple[list[str], dict[str, object]]:
    manifest = read_json(z, "manifest.json")
    names = z.namelist()
    witnessed = read_json(z, "checkpoint.json") if "checkpoint.json" in names else None
    if not isinstance(manifest, dict):
        return ["manifest.json: not a JSON object"], {}
    first_version = manifest.get("first_version", 1)
    if not isinstance(first_version, int) or isinstance(first_version, bool) or first_version < 1:
        return ["manifest.json: first_version is not a positive integer"], {}
    stream = manifest.get("stream")
    try:
        prev = GENESIS if first_version == 1 else bytes.fromhex(str(manifest.get("prev_hash")))
    except ValueError:
        return ["manifest.json: prev_hash is not a hash"], manifest
    held: dict[int, str] = {}
    more: list[str] = []
    key = witness_key
    if witnessed is not None:
        more, held, key = check_bundle(witnessed, stream, witness_key)
    problems: list[str] = []
    refs: dict[str, tuple[int, str, str, str, object]] = {}
    hashes = hashes_of(z)
    count = n_hashes = 0
    first_hash = last_hash = None
    exported: dict[int, str] = {}  # the exported hashes of the versions the checkpoint holds
    chained = True
    events = Lines(z, "events.jsonl")
    for count, line in enumerate(events, start=1):
        version = first_version + count - 1
        h = next(hashes, None)
        if h is not None:
            n_hashes += 1
            first_hash = h if first_hash is None else first_hash
            last_hash = h
            if version in held:
                exported[version] = h
        where = f"line {count} (version {version})"
        try:
            stored = bytes.fromhex(h if h is not None else "-")
        except ValueError:
            problems.append(f"{where}: no hash recorded for it")
            chained = False
        if not chained or len(problems) >= MAX_PROBLEMS:
            count += events.rest()  # the rest only counted (the lines checked so far tell)
            break
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            problems.append(f"{where}: not JSON")
            prev = stored
            continue
        if isinstance(obj, dict) and obj.get("type") == "self_score_submitted":
            attached(obj, version, refs)
        if not isinstance(obj, dict) or canonical(obj) != line:
            problems.append(f"{where}: not the canonical JSON of a hashed object")
        elif obj.get("stream") != stream:
            problems.append(f"{where}: belongs to stream {obj.get('stream')!r}, not {stream!r}")
        elif obj.get("version") != version:
            problems.append(
                f"{where}: holds version {obj.get('version')} (an event is missing or out of order)"
            )
        if hashlib.sha256(prev + line).digest() != stored:
            problems.append(f"{where}: its hash does not match its content")
        prev = stored
    events.f.close()
    for h in hashes:  # the hashes past the last line checked
        if first_version + n_hashes in held:
            exported[first_version + n_hashes] = h
        n_hashes += 1
        first_hash = h if first_hash is None else first_hash
        last_hash = h
    if chained and len(problems) >= MAX_PROBLEMS:
        problems.append(f"(only the first {MAX_PROBLEMS} bad lines are named)")
    if n_hashes != count:
        problems.insert(0, f"hashes.txt has {n_hashes} hashes for {count} lines")
    if manifest.get("count") != count:
        problems.append(f"manifest: count {manifest.get('count')}, the export holds {count}")
    if first_hash is not None and manifest.get("first_hash") != first_hash:
        problems.append("manifest: first_hash differs from the first event's hash")
    if last_hash is not None and manifest.get("last_hash") != last_hash:
        problems.append("manifest: last_hash differs from the last event's hash")
    named = manifest.get("minutes")
    if isinstance(named, dict):
        if "minutes.pdf" not in names:
            problems.append("manifest names minutes.pdf, the export has none")
        elif sha256_of(z, "minutes.pdf") != named.get("sha256"):
            problems.append("minutes.pdf: its SHA-256 differs from the manifest's")
    elif "minutes.pdf" in names:
        problems.append("minutes.pdf is not named in the manifest")
    problems += check_evidence(z, names, refs)
    if refs:
        manifest["_evidence"] = len(refs)
    if witnessed is not None and key is not None:
        problems += more
        problems += compare(
            held, exported, first_version, n_hashes, stream, "the signed checkpoint"
        )
        manifest["_witness_key"] = base64.b64encode(key).decode()
        manifest["_witnessed"] = len(held)
    return problems, manifest


def attached(
    obj: dict[str, Any], version: int, refs: dict[str, tuple[int, str, str, str, object]]
) -> None:
    """The evidence files a self-score attaches: {sha256: (version, unit, section, name,
    size)}, the first event that attaches each."""
    data = obj.get("data")
    evidence = data.get("evidence") if isinstance(data, dict) else None
    if not isinstance(evidence, dict):
        return
    for section, files in evidence.items():
        for f in files if isinstance(files, list) else ():
            if isinstance(f, dict) and isinstance(f.get("sha256"), str):
                unit = str(data.get("unit")) if isinstance(data, dict) else "None"
                refs.setdefault(
                    f["sha256"], (version, unit, str(section), str(f.get("name")), f.get("size"))
                )


def check_evidence(
    z: zipfile.ZipFile, names: list[str], refs: dict[str, tuple[int, str, str, str, object]]
) -> list[str]:
    """Each attached file is in the export as evidence/<sha256> with that SHA-256 and size; no
    other file is there."""
    problems = []
    for sha, (version, unit, section, name, size) in refs.items():
        member = EVIDENCE_PREFIX + sha
        what = f"version {version}: evidence of {unit}, section {section}, {name!r} ({member})"
        if member not in names:
            problems.append(f"{what}: missing from the export")
        elif sha256_of(z, member) != sha or z.getinfo(member).file_size != size:
            problems.append(
                f"{what}: its SHA-256 differs from the one the event records (an altered file)"
            )
    for member in names:
        if member.startswith(EVIDENCE_PREFIX) and member[len(EVIDENCE_PREFIX) :] not in refs:
            problems.append(f"{member}: no event attaches this file")
    return problems


def against(path: str, bundle_path: str, key: bytes | None) -> tuple[list[str], int]:
    """An export against a later checkpoint: every event of its stream that the checkpoint holds
    is in the export with the same hash. (problems, events the checkpoint holds)."""
    bound = MAX_PARSED_BYTES["checkpoint.json"]
    try:
        with open(bundle_path, "rb") as f:
            text = f.read(bound + 1)
        if len(text) > bound:
            raise TooLarge(
                "member_too_large",
                f"{bundle_path} is larger than {_size(bound)}",
                bundle_path,
                bound,
            )
        bundle = json.loads(text)
        with open_zip(path) as z:
            manifest = read_json(z, "manifest.json")
            if not isinstance(manifest, dict):
                raise ValueError("manifest.json is not a JSON object")
            problems, held, _ = check_bundle(bundle, manifest.get("stream"), key)
            first = manifest.get("first_version", 1)
            if not isinstance(first, int):
                raise ValueError("manifest.json: first_version is not an integer")
            exported, n = {}, 0
            for n, h in enumerate(hashes_of(z), start=1):
                if first + n - 1 in held:
                    exported[first + n - 1] = h
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        raise CannotCheck(f"unreadable input: {exc}") from None
    return problems + compare(
        held, exported, first, n, manifest.get("stream"), "the later checkpoint"
    ), len(held)


def compare(
    held: dict[int, str],
    exported: dict[int, str],
    first: int,
    count: int,
    stream: object,
    what: str,
) -> list[str]:
    """What the export lacks against the events of its stream a checkpoint holds. The export
    holds versions first..first+count-1; `exported` their hashes (at least of those `held`)."""
    problems = []
    last = first + count - 1
    missing = [v for v in sorted(held) if not first <= v <= last]
    if missing and (first if count else 1) <= missing[0]:
        problems.append(
            f"{what} holds versions {missing[0]}..{missing[-1]} of {stream}, the "
            f"export ends at version {last if count else 0} (a cut export)"
        )
    for version in sorted(held):
        if version in exported and exported[version] != held[version]:
            problems.append(
                f"version {version}: the export's hash differs from {what}'s (a rewritten export)"
            )
            break
    return problems


def main(argv: list[str]) -> int:
    args, key, bundle = list(argv[1:]), None, None
    try:
        for flag in ("--key", "--against"):
            if flag in args:
                i = args.index(flag)
                value = args[i + 1]
                del args[i : i + 2]
                if flag == "--key":
                    key = base64.b64decode(value, validate=True)
                else:
                    bundle = value
    except (IndexError, ValueError):
        args = []
    if len(args) != 1:
        print(
            "usage: python3 verify.py EXPORT.zip [--against BUNDLE.json] [--key BASE64]",
            file=sys.stderr,
        )
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
        witnessed = (
            f"; {manifest['_witnessed']} events in the signed checkpoint of witness key"
            f" {manifest['_witness_key']}"
        )
    if held is not None:
        witnessed += f"; all {held} events of the later checkpoint present"
    files = f", {manifest['_evidence']} evidence files intact" if manifest.get("_evidence") else ""
    print(
        f"ok: {manifest['stream']}: {manifest['count']} events, chain intact{files}, "
        f"last hash {manifest['last_hash']}{witnessed}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
