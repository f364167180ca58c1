"""A throwaway certificate authority made with the openssl command for TLS tests."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60,
                   stdin=subprocess.DEVNULL)


@dataclass(frozen=True)
class Ca:
    dir: Path
    name: str

    @property
    def cert(self) -> Path:
        return self.dir / f"{self.name}.crt"

    @property
    def key(self) -> Path:
        return self.dir / f"{self.name}.key"

    @classmethod
    def make(cls, dir: Path, name: str) -> Ca:
        if shutil.which("openssl") is None:
            pytest.skip("openssl not installed")
        ca = cls(dir, name)
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-days", "2", "-subj", f"/CN=hazmon test CA {name}",
                 "-keyout", str(ca.key), "-out", str(ca.cert))
        return ca

    def issue(self, name: str, *, ip: str | None = None) -> tuple[Path, Path]:
        """A certificate (for a server when `ip` names it) and its key, signed by this CA."""
        key, csr, crt = (self.dir / f"{name}.{ext}" for ext in ("key", "csr", "crt"))
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(csr))
        ext = self.dir / f"{name}.ext"
        ext.write_text(f"subjectAltName=IP:{ip}\n" if ip else "extendedKeyUsage=clientAuth\n")
        _openssl("x509", "-req", "-in", str(csr), "-CA", str(self.cert), "-CAkey",
                 str(self.key), "-CAcreateserial", "-days", "2", "-extfile", str(ext),
                 "-out", str(crt))
        return crt, key
