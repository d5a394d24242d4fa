"""Deterministic randomness keyed by position, so any item can be rebuilt alone.

The simulator never walks a global random stream: item *i* of an account is generated from
``rng(seed, "kind", account, i)``. That is what lets a 100 000-post account serve a deep page
without generating the 99 000 posts before it, and what makes the same seed give the same bytes.
"""

from __future__ import annotations

import hashlib
import random


def mix(*parts: int | str) -> int:
    """A stable 64-bit hash of the parts (unlike ``hash()``, which is salted per process)."""
    data = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def rng(*parts: int | str) -> random.Random:
    """A private random generator for one item; same parts, same sequence."""
    return random.Random(mix(*parts))
