"""The SMS gateway's request body as a template of the config: placeholders in braces.

A string that is exactly one placeholder takes the value with its JSON type (`"{phones}"`
becomes a list, `"{template_params}"` an object); a placeholder inside a longer string is
replaced by its text (`"【{sign_name}】{text}"`); `{{` and `}}` are literal braces. Only the
names below exist, and an unknown one is refused when the config is read, not when the
first alarm is sent.

| placeholder | value |
|---|---|
| `phone` | the numbers, comma-separated (one number for one recipient) |
| `phones` | the numbers as a JSON list (whole value only) |
| `text` | the message text, cut to the channel's `max_chars` |
| `subject` | the message subject |
| `sign_name` | the SMS signature (签名) registered with the vendor |
| `template_code` | the vendor's template code (模板编号) |
| `template_params` | the rendered `template_params` mapping (whole value only) |
| `template_params_json` | the same mapping as a JSON string (as some vendors want it) |
| `message_id` | the delivery id, the same on every retry (for the vendor's dedup) |
| `timestamp`, `nonce` | those of the signature (the same values as its headers) |
| `key_id` | the configured access key id (not secret) |
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

WHOLE_ONLY: Final = frozenset({"phones", "template_params"})
TEXT_NAMES: Final = frozenset({
    "phone", "text", "subject", "sign_name", "template_code", "template_params_json",
    "message_id", "timestamp", "nonce", "key_id",
})
NAMES: Final = WHOLE_ONLY | TEXT_NAMES
PARAM_NAMES: Final = NAMES - {"template_params", "template_params_json"}

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")
_WHOLE = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")


def placeholders(template: Any) -> list[tuple[str, bool]]:
    """Every placeholder in a template, with whether it stands as a whole string."""
    out: list[tuple[str, bool]] = []
    if isinstance(template, str):
        whole = _WHOLE.match(template)
        if whole:
            return [(whole.group(1), True)]
        out.extend((m.group(1), False) for m in _TOKEN.finditer(template) if m.group(1))
    elif isinstance(template, Mapping):
        for v in template.values():
            out.extend(placeholders(v))
    elif isinstance(template, list):
        for v in template:
            out.extend(placeholders(v))
    return out


def check(template: Any, allowed: frozenset[str] = NAMES) -> None:
    """ValueError naming the first placeholder that does not exist or cannot stand there."""
    for name, whole in placeholders(template):
        if name not in allowed:
            raise ValueError(f"unknown placeholder {{{name}}} (known: "
                             f"{', '.join(sorted(allowed))})")
        if name in WHOLE_ONLY and not whole:
            raise ValueError(f"{{{name}}} is a list or an object: it must be a whole "
                             "string value, not part of a text")


def render(template: Any, values: Mapping[str, Any]) -> Any:
    """The template with its placeholders filled from `values` (checked beforehand)."""
    if isinstance(template, str):
        whole = _WHOLE.match(template)
        if whole:
            return values[whole.group(1)]

        def one(m: re.Match[str]) -> str:
            token = m.group(0)
            if token in ("{{", "}}"):
                return token[0]
            return str(values[m.group(1)])

        return _TOKEN.sub(one, template)
    if isinstance(template, Mapping):
        return {k: render(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, values) for v in template]
    return template


def params_json(params: Mapping[str, Any]) -> str:
    return json.dumps(params, ensure_ascii=False, separators=(",", ":"))
