"""Constants shared by the tests: the test registry file and its two enterprises."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"
REGISTRY_FILE = DATA / "registry.yaml"
ENT = "91320921MA1XXXXX0Q"  # region 320921
ENT2 = "91320902MA2YYYYY1R"  # region 320902
