"""A real Mosquitto broker on a loopback port, configured as hazmon expects a site's broker
to be (see deploy/mosquitto.conf): persistent sessions that queue without a small cap.

Anonymous by default; given `users` (name → password) it takes only those accounts, with
the password file made by `mosquitto_passwd` as on a site, and `acl` (the text of an ACL
file, e.g. deploy/hazmon.acl) limits what each may read and write."""

from __future__ import annotations

import os
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


@dataclass
class Mosquitto:
    workdir: Path
    port: int = field(default_factory=free_port)
    persistence: bool = True
    users: dict[str, str] | None = None
    acl: str | None = None
    proc: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def start(self, timeout: float = 15.0) -> Mosquitto:
        binary = find_binary("mosquitto")
        if binary is None:
            raise ServerStartError("mosquitto not installed (run scripts/bootstrap.sh)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(CONFIG.format(port=self.port, dir=self.workdir,
                                      persist="true" if self.persistence else "false")
                        + self._auth_config())
        log = self.workdir / "mosquitto.log"
        # A session of its own: Ctrl-C in a terminal signals the whole foreground group,
        # and the broker must outlive hazmon's shutdown (its last acknowledgements).
        self.proc = subprocess.Popen(
            [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(lambda: port_open(self.port), timeout, self.proc, log, "mosquitto")
        return self

    def _auth_config(self) -> str:
        if self.users is None:
            return "allow_anonymous true\n"
        tool = find_binary("mosquitto_passwd")
        if tool is None:
            raise ServerStartError("mosquitto_passwd not installed (Debian package mosquitto)")
        passwd = self.workdir / "passwd"
        passwd.unlink(missing_ok=True)
        passwd.touch(mode=0o600)
        for name, password in self.users.items():
            # -b: the password from the command line (a test's own throw-away accounts)
            subprocess.run([tool, "-b", str(passwd), name, password], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        lines = ["allow_anonymous false", f"password_file {passwd}"]
        if os.geteuid() == 0:
            # Started as root, Mosquitto drops to its own user before reading the password
            # file, which a test's private temp directory does not let it reach.
            lines.append("user root")
        if self.acl is not None:
            acl = self.workdir / "acl"
            acl.write_text(self.acl, encoding="utf-8")
            lines.append(f"acl_file {acl}")
        return "\n".join(lines) + "\n"

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None

    def __enter__(self) -> Mosquitto:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
