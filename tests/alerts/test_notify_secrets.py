"""Where the push channels' secrets come from, and how they are masked."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from hazmon.alerts.notify.channels.secrets import (
    MASK,
    ChannelSecretError,
    SecretRef,
    redact,
)


def test_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAZMON_TEST_REF", "  env-secret-value \n")
    assert SecretRef(env="HAZMON_TEST_REF").read("ch", "key") == "env-secret-value"
    monkeypatch.setenv("HAZMON_TEST_REF", " ")
    with pytest.raises(ChannelSecretError) as err:
        SecretRef(env="HAZMON_TEST_REF").read("ch", "key")
    assert str(err.value) == ("channel ch: key not set (environment variable HAZMON_TEST_REF "
                              "is missing or empty)")


def test_from_the_first_line_of_a_file(tmp_path: Path) -> None:
    f = tmp_path / "k"
    f.write_text("file-secret-value\r\nsecond line ignored\n", encoding="utf-8")
    assert SecretRef(file=f).read("ch", "key") == "file-secret-value"
    f.write_text("", encoding="utf-8")
    with pytest.raises(ChannelSecretError, match="is missing or empty"):
        SecretRef(file=f).read("ch", "key")
    with pytest.raises(ChannelSecretError, match="No such file"):
        SecretRef(file=tmp_path / "absent").read("ch", "key")


@pytest.mark.parametrize("value", [
    "inline-secret", {}, {"env": "A", "file": "/x"}, {"env": "1BAD"}, {"vault": "x"},
])
def test_only_one_named_source_is_accepted(value: object) -> None:
    with pytest.raises(ValidationError):
        SecretRef.model_validate(value)


def test_a_read_secret_is_masked_as_read_and_url_encoded(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("HAZMON_TEST_REF", "a+b/c=d secret")
    secret = SecretRef(env="HAZMON_TEST_REF").read("ch", "key")
    text = f"raw {secret}, quoted a%2Bb%2Fc%3Dd%20secret, plus a%2Bb%2Fc%3Dd+secret"
    assert redact(text) == f"raw {MASK}, quoted {MASK}, plus {MASK}"
    caplog.set_level(logging.DEBUG, logger="httpx")
    logging.getLogger("httpx").info("HTTP Request: POST %s", f"http://x/?key={secret}")
    assert secret not in caplog.text
    assert f"key={MASK}" in caplog.text
    assert redact("short ab", "ab") == "short ab"  # too short to mask safely
    assert redact("given once-only-secret", "once-only-secret") == f"given {MASK}"
