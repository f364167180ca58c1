"""docs/openapi.json is the document the app serves: client teams generate from the file,
so an endpoint or field changed without regenerating it fails here."""

from __future__ import annotations

import json
from pathlib import Path

from hazmon.api.openapi import REGENERATE, openapi_text
from tests.api.support import Api

COMMITTED = Path(__file__).parents[2] / "docs" / "openapi.json"
HINT = f"docs/openapi.json is out of date: regenerate it with `{REGENERATE}` and commit it"


async def test_committed_document_is_what_the_app_serves(api: Api) -> None:
    served = await api.client.get("/openapi.json")
    assert served.status_code == 200
    assert json.loads(COMMITTED.read_text(encoding="utf-8")) == served.json(), HINT


def test_committed_document_is_what_the_command_writes() -> None:
    # Byte for byte, so regenerating an unchanged API leaves the file (and its diff) alone.
    assert COMMITTED.read_text(encoding="utf-8") == openapi_text(), HINT

