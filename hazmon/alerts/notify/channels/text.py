"""Fitting a Chinese message into what a phone or a chat robot accepts.

SMS: a message of Chinese text is sent in UCS-2, 70 characters in one segment; a longer
one is split by the carrier into segments of 67 characters (3 go to the header that
joins them) and each segment is billed. The signature 【签名】 that the carrier prefixes
counts towards the length. `fit_chars` cuts at a configured maximum and ends the text
with "…", so a duty officer sees that more exists (on the page).

Chat robots count bytes of UTF-8 (WeCom: text 2,048, markdown 4,096); `fit_utf8` cuts on
a character boundary so the result is always valid UTF-8.
"""

from __future__ import annotations

from typing import Final

ELLIPSIS: Final = "…"
SMS_SEGMENT: Final = 70  # characters of one UCS-2 SMS
SMS_CONCAT_SEGMENT: Final = 67  # characters per segment of a concatenated SMS


def fit_chars(text: str, limit: int) -> str:
    """`text` if it has at most `limit` characters, else its start and "…" (limit in all)."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return text
    return text[: limit - 1] + ELLIPSIS


def fit_utf8(text: str, limit_bytes: int) -> str:
    """`text` if its UTF-8 takes at most `limit_bytes`, else its start and "…" within it."""
    data = text.encode("utf-8")
    if len(data) <= limit_bytes:
        return text
    budget = limit_bytes - len(ELLIPSIS.encode("utf-8"))
    if budget < 0:
        raise ValueError("limit_bytes too small for the ellipsis")
    cut = data[:budget].decode("utf-8", errors="ignore")  # drops a split last character
    return cut + ELLIPSIS


def sms_segments(text: str) -> int:
    """How many SMS segments a UCS-2 text of this length is billed as."""
    n = len(text)
    if n <= SMS_SEGMENT:
        return 1
    return -(-n // SMS_CONCAT_SEGMENT)


def markdown_safe(text: str) -> str:
    """Alarm text shown inside robot markdown: angle brackets become full-width, so a tag
    or message cannot open a `<font>` or an `<@userid>` mention of its own."""
    return text.replace("<", "＜").replace(">", "＞")


_MOBILE_DIGITS: Final = 11


def national_mobile(phone: str) -> str | None:
    """A mainland mobile number as its 11 digits ("+86 138-0000-0004" → "13800000004"),
    or None for anything else (a landline cannot receive an SMS nor be @-mentioned)."""
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) == _MOBILE_DIGITS + 2 and digits.startswith("86"):
        digits = digits[2:]
    ok = len(digits) == _MOBILE_DIGITS and digits[0] == "1" and digits[1] in "3456789"
    return digits if ok else None
