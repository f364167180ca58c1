"""The TLS context of an MQTT connection, built from settings once at start: a missing or
unreadable CA, certificate or key stops the service with its path instead of failing every
reconnect."""

from __future__ import annotations

import ssl

from hazmon.ingest.settings import MqttTlsSettings


class TlsConfigError(ValueError):
    pass


def client_context(tls: MqttTlsSettings) -> ssl.SSLContext:
    try:
        ctx = ssl.create_default_context(
            cafile=str(tls.ca_file) if tls.ca_file is not None else None)
    except (OSError, ssl.SSLError) as exc:
        raise TlsConfigError(f"mqtt.tls.ca_file {tls.ca_file}: {exc}") from None
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if (tls.cert_file is None) != (tls.key_file is None):
        raise TlsConfigError("mqtt.tls needs both cert_file and key_file, or neither")
    if tls.cert_file is not None:
        try:
            ctx.load_cert_chain(str(tls.cert_file), str(tls.key_file))
        except (OSError, ssl.SSLError) as exc:
            raise TlsConfigError(
                f"mqtt.tls.cert_file {tls.cert_file} / key_file {tls.key_file}: {exc}") from None
    if tls.insecure:
        ctx.check_hostname = False  # the chain is still verified
    return ctx


def describe_failure(exc: BaseException, tls: MqttTlsSettings | None) -> str | None:
    """A plain explanation when a connection failed in the TLS handshake, else None.

    aiomqtt hands on only the text of the ssl error, so it is recognised by that.
    """
    text = str(exc)
    if tls is None:
        return None
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return (f"TLS: the broker's certificate is not trusted by mqtt.tls.ca_file "
                f"{tls.ca_file or '(system CAs)'} or does not name this host ({text})")
    if "SSL" in text or "TLS" in text or "handshake" in text.lower():
        return f"TLS handshake with the broker failed ({text})"
    return None
