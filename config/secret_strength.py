"""One rule for every secret production is given (`Settings.from_env` applies it to each).

A secret is refused when it contains a value published with seatflow (the development
defaults, in any case and with anything around them), when it is shorter than its minimum,
or when its characters carry fewer than two bits each of that minimum. The bits are
estimated from how often each character, and each step from one character to the next,
occurs in the shortest run the value repeats: so one character repeated, a short run
repeated (`Summer2024!Summer2024!…`), a counting sequence (`0123456789abcdef`, bytes
0, 1, 2, …) and 32 zero bytes all count as next to nothing, while a random value of the
minimum length (16 hex digits, the least entropy per character this allows) passes.
Reasons never repeat the value.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import pairwise

BITS_PER_CHARACTER = 2.0
# Prefixes a secret may carry; what follows them is the secret itself.
PREFIXES = ("whsec_", "sk_live_", "rk_live_", "sk_test_", "rk_test_")


def _letters_and_digits(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def _published_cores(published: Iterable[str]) -> list[str]:
    cores = []
    for value in published:
        for prefix in PREFIXES:
            value = value.removeprefix(prefix)
        cores.append(_letters_and_digits(value))
    return cores


def _entropy(symbols: Sequence[int]) -> float:
    """Shannon entropy of the symbols' frequencies, in bits per symbol."""
    total = len(symbols)
    counts = Counter(symbols).values()
    return -sum(n / total * math.log2(n / total) for n in counts) if total else 0.0


def _shortest_unit(symbols: list[int]) -> list[int]:
    """The shortest start of `symbols` that, repeated, makes all of them."""
    for period in range(1, len(symbols) // 2 + 1):
        if symbols[period:] == symbols[:-period]:
            return symbols[:period]
    return symbols


def estimated_bits(value: str | bytes) -> float:
    unit = _shortest_unit(list(value.encode() if isinstance(value, str) else value))
    steps = [b - a for a, b in pairwise(unit)]
    return min(_entropy(unit), _entropy(steps)) * len(unit)


def weakness(
    value: str | bytes,
    minimum: int,
    published: Iterable[str] = (),
    unit: str = "characters",
) -> str:
    """Why `value` (without its prefix) is not a secret, or "" when it may be one."""
    if isinstance(value, str):
        text = _letters_and_digits(value)
        if any(core and core in text for core in _published_cores(published)):
            return "contains the published development value"
    if len(value) < minimum:
        return f"is too short (at least {minimum} {unit})"
    if estimated_bits(value) < BITS_PER_CHARACTER * minimum:
        return "is weak: its characters repeat or follow a pattern (a random value is needed)"
    return ""
