"""The Merkle tree of RFC 9162 (Certificate Transparency v2, section 2.1): tree hashes,
inclusion proofs and consistency proofs, with their verification.

    leaf hash      SHA-256(0x00 || leaf)
    node hash      SHA-256(0x01 || left || right)
    MTH({})        SHA-256()
    MTH(D[0:n])    node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two below n

Written here (about 100 lines) rather than taken from pymerkle: the package index this project
installs from does not carry pymerkle, and the recipe is short and fixed by the RFC. The tree is
kept as levels (level 0 = leaf hashes; a node whose sibling is missing is carried up unchanged),
which is the same tree as the RFC's recursive definition: the root is one pass over the leaves
and a proof is a walk up the levels.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

__all__ = ["Tree", "leaf_hash", "node_hash", "verify_consistency", "verify_inclusion"]


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class Tree:
    """A tree over leaf hashes (already `leaf_hash`ed), in order."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        levels = [list(leaf_hashes)]
        sha256 = hashlib.sha256
        while len(levels[-1]) > 1:
            below = levels[-1]
            up = [
                sha256(b"\x01" + below[i] + below[i + 1]).digest()
                for i in range(0, len(below) - 1, 2)
            ]
            if len(below) % 2:
                up.append(below[-1])
            levels.append(up)
        self._levels = levels
        self.size = len(leaf_hashes)

    def root(self) -> bytes:
        return self._levels[-1][0] if self.size else hashlib.sha256().digest()

    def _mth(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]) of a range that starts on a boundary of its own size (the only ranges
        the proofs ask for): a node of the levels when one covers exactly that range."""
        n = hi - lo
        if n == 1:
            return self._levels[0][lo]
        j = (n - 1).bit_length()  # 2**j >= n
        if lo % (1 << j) == 0 and (hi == lo + (1 << j) or hi == self.size):
            return self._levels[j][lo >> j]
        k = 1 << (n - 1).bit_length() - 1
        return node_hash(self._mth(lo, lo + k), self._mth(lo + k, hi))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of leaf `index` in the tree of the first `size` leaves (RFC 9162
        2.1.3.1)."""
        size = self.size if size is None else size
        if not 0 <= index < size <= self.size:
            raise ValueError(f"no leaf {index} in a tree of {size}")
        return self._path(index, 0, size)

    def _path(self, m: int, lo: int, hi: int) -> list[bytes]:
        n = hi - lo
        if n == 1:
            return []
        k = 1 << (n - 1).bit_length() - 1
        if m < k:
            return [*self._path(m, lo, lo + k), self._mth(lo + k, hi)]
        return [*self._path(m - k, lo + k, hi), self._mth(lo, lo + k)]

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        """The proof that the tree of `old` leaves is a prefix of the tree of `new` (RFC 9162
        2.1.4.1)."""
        new = self.size if new is None else new
        if not 0 < old <= new <= self.size:
            raise ValueError(f"no consistency proof from {old} to {new} leaves")
        return self._subproof(old, 0, new, True)

    def _subproof(self, m: int, lo: int, hi: int, b: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if b else [self._mth(lo, hi)]
        k = 1 << (n - 1).bit_length() - 1
        if m <= k:
            return [*self._subproof(m, lo, lo + k, b), self._mth(lo + k, hi)]
        return [*self._subproof(m - k, lo + k, hi, False), self._mth(lo, lo + k)]


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 2.1.3.2: `leaf` (a leaf hash) is leaf `index` of the tree of `size` with
    `root`."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: the tree of `old` leaves with `old_root` is a prefix of the tree of
    `new` leaves with `new_root`."""
    if old == new:
        return not proof and old_root == new_root
    if not 0 < old < new or not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old root is the first node of the path
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
