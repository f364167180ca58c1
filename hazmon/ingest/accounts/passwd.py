"""Mosquitto's password file: one `user:$7$iterations$salt$hash` line per account.

`$7$` is PBKDF2-HMAC-SHA512 with a 12-byte salt and a 64-byte key, in standard base64;
Mosquitto 2.x (`mosquitto_passwd`) writes it and the broker reads the iteration count
from each line. We hash here rather than call `mosquitto_passwd -b`, which would put the
password on a command line that every local user can read in `ps`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SALT_BYTES = 12
# mosquitto_passwd's own default is 101; the broker pays this once per connect, which a
# gateway does rarely, so a count that makes a stolen file expensive to attack is cheap.
DEFAULT_ITERATIONS = 20_000


class PasswordFileError(ValueError):
    pass


def hash_password(password: str, *, iterations: int = DEFAULT_ITERATIONS,
                  salt: bytes | None = None) -> str:
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def verify_password(password: str, hashed: str) -> bool:
    parts = hashed.split("$")
    if len(parts) != 5 or parts[0] != "" or parts[1] != "7":
        raise PasswordFileError(f"not a Mosquitto $7$ hash: {hashed[:12]}...")
    iterations, salt, key = int(parts[2]), base64.b64decode(parts[3]), base64.b64decode(parts[4])
    got = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, len(key))
    return hmac.compare_digest(got, key)


def new_password() -> str:
    """32 URL-safe characters (192 bits): typed into a gateway's configuration, not by heart."""
    return secrets.token_urlsafe(24)


def parse(text: str) -> dict[str, str]:
    """user → hash, in file order. Blank lines and comments are not kept: Mosquitto has none
    in a file it writes, and this module owns the file."""
    out: dict[str, str] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, hashed = line.partition(":")
        if not sep or not user or not hashed:
            raise PasswordFileError(f"line {n}: not `user:hash`")
        out[user] = hashed
    return out


def render(accounts: dict[str, str]) -> str:
    return "".join(f"{user}:{hashed}\n" for user, hashed in accounts.items())
