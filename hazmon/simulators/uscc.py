"""Unified social credit codes (统一社会信用代码, GB 32100-2015) for simulated enterprises.

Layout: registration authority (1) + entity type (1) + region (6) + organisation code
(9, itself ending in a GB 11714 check character) + check character (1). Both check
characters are computed properly so a simulated code passes any validator the centre
or a downstream system applies.
"""

from __future__ import annotations

import random
from typing import Final

# GB 32100: the 31 code characters, their values are their positions (no I, O, S, V, Z).
CHARSET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE: Final = {c: i for i, c in enumerate(CHARSET)}
_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, ...

# GB 11714 organisation code: 8 body characters, values 0-9 and A=10 ... Z=35, mod 11.
_ORG_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)


def check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a code."""
    if len(first17) != 17 or any(c not in _VALUE for c in first17):
        raise ValueError(f"need 17 characters of {CHARSET}, got {first17!r}")
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def org_check_char(body8: str) -> str:
    """The GB 11714 check character of an 8-character organisation code body."""
    if len(body8) != 8:
        raise ValueError(f"need 8 characters, got {body8!r}")
    total = sum(int(c, 36) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def is_valid(code: str) -> bool:
    """True when `code` is 18 code characters whose last one is the GB 32100 check."""
    return (
        len(code) == 18 and all(c in _VALUE for c in code) and check_char(code[:17]) == code[17]
    )


def make_code(rng: random.Random, region: str) -> str:
    """A valid code of a company (91: market regulator, enterprise) registered in `region`.

    The organisation code follows the post-2015 pattern "MA" + 6 characters, as on
    most business licences issued since; its own GB 11714 check is computed too.
    """
    if len(region) != 6 or not region.isdigit():
        raise ValueError(f"region must be a 6-digit division code, got {region!r}")
    # Body characters must be valid in both charsets; GB 32100 excludes I, O, S, V, Z.
    body = "MA" + "".join(rng.choice(CHARSET) for _ in range(6))
    first17 = "91" + region + body + org_check_char(body)
    return first17 + check_char(first17)
