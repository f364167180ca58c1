"""The OpenAPI document of the API, as committed in `docs/openapi.json`.

    hazmon openapi > docs/openapi.json      (or: hazmon openapi -o docs/openapi.json)

The document depends only on the routers and models, never on a running service: it is
built from an app over an empty context, so it can be written without broker, database
or InfluxDB, and compared with the committed file by a test.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from hazmon.api.app import create_app
from hazmon.api.context import ApiContext

REGENERATE = "hazmon openapi -o docs/openapi.json"


def openapi_document() -> dict[str, Any]:
    """What the app serves at /openapi.json."""
    # Building the routes reads no field of the context; a context of placeholders keeps
    # the document free of any site's data.
    placeholder: Any = None
    ctx = ApiContext(registry=placeholder, alarms=placeholder, alarm_store=placeholder,
                     tokens=placeholder, gateways=placeholder, health=placeholder,
                     clock=placeholder)
    doc: dict[str, Any] = create_app(ctx).openapi()
    return doc


def openapi_text() -> str:
    """The document as committed: indented, UTF-8 (the Chinese examples stay readable),
    key order as FastAPI emits it, one final newline."""
    return json.dumps(openapi_document(), ensure_ascii=False, indent=2) + "\n"


def add_openapi_command(subparsers: Any) -> None:
    """Register `openapi` on the CLI's subparsers (argparse's _SubParsersAction)."""
    p = subparsers.add_parser("openapi", help="print the API's OpenAPI document (JSON)")
    p.add_argument("-o", "--output", type=Path, metavar="FILE",
                   help="write to FILE instead of stdout (e.g. docs/openapi.json)")
    p.set_defaults(func=_cmd_openapi)


def _cmd_openapi(args: argparse.Namespace) -> int:
    text = openapi_text()
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return 0
