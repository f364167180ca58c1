"""HTTPS on the API port: uvicorn's TLS options from the http settings, checked once at
start, so a wrong file stops the service naming it (uvicorn would fail inside its task)."""

from __future__ import annotations

import ssl
from typing import Any

from hazmon.api.settings import HttpSettings


class HttpsConfigError(ValueError):
    pass


def server_tls_options(http: HttpSettings) -> dict[str, Any]:
    """Keyword arguments for uvicorn.Config: empty for plain HTTP."""
    if http.certificate_file is None or http.key_file is None:
        return {}
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        ctx.load_cert_chain(http.certificate_file, http.key_file)
    except (OSError, ssl.SSLError) as exc:
        raise HttpsConfigError(f"HTTPS: cannot load http.certificate_file "
                               f"{http.certificate_file} with http.key_file {http.key_file}: "
                               f"{exc}") from None
    return {"ssl_certfile": str(http.certificate_file), "ssl_keyfile": str(http.key_file)}
