"""Identifier formats of docs/CONTRACT.md §1, shared by the registry, topics and the API."""

import re
from typing import Final

REGION_RE: Final = re.compile(r"[0-9]{6}")
# Unified social credit code (GB 32100-2015): 18 chars, no I, O, Z, S, V.
ENTERPRISE_RE: Final = re.compile(r"[0-9A-HJ-NP-RTUW-Y]{18}")
HAZARD_SOURCE_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,32}")
TAG_RE: Final = re.compile(r"[A-Za-z0-9_.:-]{1,64}")

REGION_PATTERN: Final = REGION_RE.pattern
ENTERPRISE_PATTERN: Final = ENTERPRISE_RE.pattern
HAZARD_SOURCE_PATTERN: Final = HAZARD_SOURCE_RE.pattern
TAG_PATTERN: Final = TAG_RE.pattern


def is_region(value: str) -> bool:
    return REGION_RE.fullmatch(value) is not None


def is_enterprise(value: str) -> bool:
    return ENTERPRISE_RE.fullmatch(value) is not None
