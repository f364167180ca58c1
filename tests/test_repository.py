"""The repository stands alone: no tracked file points outside it, and every citation of a
project document ("docs/CONTRACT.md §3.2", "docs/DESIGN.md habit 9") names a document and a
section that exist."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()

# Places a clone does not have: the folder the first drafts lived in, and the old names
# of the documents that replaced them (docs/CONTRACT.md, docs/STANDARDS.md,
# docs/DESIGN.md, docs/REGULATORY.md).
OUTSIDE = re.compile(
    r"\.\./shared|shared/(CONTRACT|DOMAIN|DESIGN|REGULATORY)"
    r"|\bCONTRACT §|\bDOMAIN\.md|\bDESIGN habit"
)
CITATION = re.compile(r"docs/([A-Za-z_]+\.md)(?: §(\d+(?:\.\d+)*)| habit (\d+))?")
HEADING = re.compile(r"^#{2,6} (\d+(?:\.\d+)*)\.? ", re.MULTILINE)
HABIT = re.compile(r"^(\d+)\. ", re.MULTILINE)


def _tracked_texts() -> list[tuple[str, str]]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"not a git checkout: {exc}")
    texts = []
    for name in out.decode().split("\0"):
        path = ROOT / name
        if not name or name == THIS or not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue  # binary (screenshots)
        try:
            texts.append((name, data.decode("utf-8")))
        except UnicodeDecodeError:
            continue
    return texts


def _hits(pattern: re.Pattern[str]) -> list[tuple[str, int, re.Match[str]]]:
    return [(name, text.count("\n", 0, m.start()) + 1, m)
            for name, text in _tracked_texts() for m in pattern.finditer(text)]


def test_no_tracked_file_points_outside_the_repository() -> None:
    found = [f"{name}:{line}: {m.group(0)}" for name, line, m in _hits(OUTSIDE)]
    assert not found, ("references to documents outside the repository; point them at "
                       "docs/ instead:\n" + "\n".join(found))


def _sections(doc: str) -> set[str]:
    return set(HEADING.findall(doc))


def _habits(doc: str) -> set[str]:
    part = doc.split("## 3. Habits", 1)
    return set(HABIT.findall(part[1].split("\n## ", 1)[0])) if len(part) == 2 else set()


def test_every_citation_names_a_section_that_exists() -> None:
    docs = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md")}
    bad = []
    for name, line, m in _hits(CITATION):
        doc, section, habit = m.groups()
        where = f"{name}:{line}: {m.group(0)}"
        if doc not in docs:
            if not (ROOT / "docs" / doc).exists():
                bad.append(f"{where}: no such document")
        elif section is not None and section not in _sections(docs[doc]):
            bad.append(f"{where}: no section {section}")
        elif habit is not None and habit not in _habits(docs[doc]):
            bad.append(f"{where}: no habit {habit}")
    assert not bad, "citations that lead nowhere:\n" + "\n".join(bad)


def test_the_documents_have_their_sections() -> None:
    # The checks above are only as good as the section parsing: the documents' own
    # numbering must be found.
    contract = (ROOT / "docs" / "CONTRACT.md").read_text(encoding="utf-8")
    assert {"1", "2", "2.2", "3", "3.6", "4", "4.5", "5", "5.6"} <= _sections(contract)
    design = (ROOT / "docs" / "DESIGN.md").read_text(encoding="utf-8")
    assert {str(n) for n in range(1, 13)} == _habits(design)
