"""A real Mosquitto broker on a loopback port, configured as hazmon expects a site's broker
to be (see deploy/mosquitto.conf): persistent sessions that queue without a small cap.

Anonymous by default; given `users` (name → password) it takes only those accounts, with
the password file made by `mosquitto_passwd` as on a site, and `acl` (the text of an ACL
file, e.g. deploy/hazmon.acl) limits what each may read and write."""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from hazmon.testing.process import (
    ServerStartError,
    find_binary,
    free_port,
    port_open,
    stop_process,
    wait_until,
)

CONFIG = """\
listener {port} 127.0.0.1
{security}
persistence {persist}
persistence_location {dir}/
autosave_interval 1
# A persistent session must hold everything published while hazmon is down or slow.
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages 0
max_packet_size 1048576
log_dest file {dir}/mosquitto.log
log_type error
log_type warning
log_type notice
"""


@dataclass(frozen=True)
class BrokerTls:
    """A TLS-only listener (as deploy/mosquitto-tls.conf); client certificates signed by
    `ca_file` are required when `require_certificate`."""

    ca_file: Path
    cert_file: Path
    key_file: Path
    require_certificate: bool = False


@dataclass
class Mosquitto:
    workdir: Path
    port: int = field(default_factory=free_port)
    persistence: bool = True
    users: dict[str, str] | None = None
    acl: str | None = None
    proc: subprocess.Popen[bytes] | None = None
    # With a password file, anonymous clients are refused (as deploy/mosquitto.conf).
    password_file: Path | None = None
    acl_file: Path | None = None
    tls: BrokerTls | None = None

    def _write_accounts(self) -> None:
        """`users` and `acl` written as the files a site has."""
        if self.users is not None:
            tool = find_binary("mosquitto_passwd")
            if tool is None:
                raise ServerStartError("mosquitto_passwd not installed (Debian package mosquitto)")
            self.password_file = self.workdir / "passwd"
            self.password_file.unlink(missing_ok=True)
            self.password_file.touch(mode=0o600)
            for name, password in self.users.items():
                # -b: the password from the command line (a test's own throw-away accounts)
                subprocess.run([tool, "-b", str(self.password_file), name, password],
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if self.acl is not None:
            self.acl_file = self.workdir / "acl"
            self.acl_file.write_text(self.acl, encoding="utf-8")

    def _security(self) -> str:
        self._write_accounts()
        lines = [f"allow_anonymous {'false' if self.password_file else 'true'}"]
        if os.geteuid() == 0 and (self.password_file or self.acl_file or self.tls):
            # Started as root, Mosquitto becomes user `mosquitto`, which cannot read these
            # files in a test's private temporary directory.
            lines.append("user root")
        if self.password_file is not None:
            lines.append(f"password_file {self.password_file}")
        if self.acl_file is not None:
            lines.append(f"acl_file {self.acl_file}")
        if self.tls is not None:
            lines += [f"cafile {self.tls.ca_file}", f"certfile {self.tls.cert_file}",
                      f"keyfile {self.tls.key_file}",
                      f"require_certificate {'true' if self.tls.require_certificate else 'false'}"]
        return "\n".join(lines)

    def reload(self) -> None:
        """SIGHUP: Mosquitto rereads its password and ACL files."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGHUP)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def start(self, timeout: float = 15.0) -> Mosquitto:
        binary = find_binary("mosquitto")
        if binary is None:
            raise ServerStartError("mosquitto not installed (run scripts/bootstrap.sh)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(CONFIG.format(port=self.port, dir=self.workdir, security=self._security(),
                                      persist="true" if self.persistence else "false"))
        log = self.workdir / "mosquitto.log"
        # A session of its own: Ctrl-C in a terminal signals the whole foreground group,
        # and the broker must outlive hazmon's shutdown (its last acknowledgements).
        self.proc = subprocess.Popen(
            [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(lambda: port_open(self.port), timeout, self.proc, log, "mosquitto")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None

    def __enter__(self) -> Mosquitto:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
