"""A PostgreSQL cluster of a test's own, which the test may stop and start at will.

The binaries are pgserver's (a dependency of the project, so `pip install -e .[dev]`
guarantees them), else Debian's PostgreSQL 15. PostgreSQL refuses to run as root, so as root
the cluster runs as pgserver's system user, as pgserver itself does.
"""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

from switchboard.runtime.embedded import free_port

DEBIAN_BIN = Path("/usr/lib/postgresql/15/bin")
SYSTEM_USER = "pgserver"


def postgres_bin() -> Path:
    try:
        from pgserver._commands import POSTGRES_BIN_PATH
    except ImportError:
        POSTGRES_BIN_PATH = DEBIAN_BIN
    return Path(POSTGRES_BIN_PATH)


class PrivatePostgres:
    """initdb'd under `root`; listening on 127.0.0.1:`port` and a Unix socket in `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.port = free_port()
        self.bin = postgres_bin()
        self._user: pwd.struct_passwd | None = None

    @property
    def socket_dir(self) -> Path:
        return self.root

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def socket_url(self, database: str = "postgres") -> str:
        """Over the Unix socket, as `switchboard up` reaches its embedded database: a stopped
        server is then a missing socket file (FileNotFoundError), not a refused port."""
        return f"postgresql://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def init(self) -> PrivatePostgres:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self._run_as_unprivileged_user()
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -h 127.0.0.1 -k {self.socket_dir} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        """Fast shutdown: open sessions are terminated, as in a real database restart."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def stop_if_running(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop()

    def _run_as_unprivileged_user(self) -> None:
        from pgserver.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        user = ensure_user_exists(SYSTEM_USER)
        assert user is not None
        ensure_prefix_permissions(self.root)
        ensure_folder_permissions(self.bin, 0o555)
        ensure_folder_permissions(self.bin.parent / "lib", 0o444)
        os.chown(self.root, user.pw_uid, user.pw_gid)
        self._user = user

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [str(self.bin / program), *args],
            check=True,
            capture_output=True,
            timeout=60,
            user=self._user.pw_uid if self._user else None,
            group=self._user.pw_gid if self._user else None,
            cwd=self.root,
        )
