"""A throwaway PostgreSQL server for the tests: ``initdb`` + ``pg_ctl`` on a temp directory, on
a free loopback port, with a password-protected role (``scram-sha-256``).

Missing server binaries fail the tests that need it, unless ``IMA_TEST_NO_POSTGRES=1`` (then
they skip): PostgreSQL support is not optional. Run as root (CI), the server runs as the
``postgres`` user (or ``nobody``), since ``initdb`` refuses root.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

USER = "ima"
PASSWORD = "s3cret-" + secrets.token_hex(4)


def _bin_dir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    found_dirs = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found_dirs[-1].parent if found_dirs else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    port: int
    base: Path

    def url(self, database: str = "postgres", *, password: str = PASSWORD) -> str:
        return f"postgresql://{USER}:{password}@127.0.0.1:{self.port}/{database}"

    async def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        name = "t_" + secrets.token_hex(6)
        conn = await asyncpg.connect(self.url())
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.url(name)


def _run_as() -> list[str]:
    """How to run the server's commands: as ourselves, or (as root) as an unprivileged user."""
    if os.geteuid() != 0:
        return []
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return ["runuser", "-u", user, "--"]
    raise RuntimeError("running as root with no unprivileged user for PostgreSQL")


def start_server() -> Iterator[Server]:
    """Start a server; stop it and delete its files when the generator closes."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        if os.environ.get("IMA_TEST_NO_POSTGRES") == "1":
            pytest.skip("IMA_TEST_NO_POSTGRES=1: PostgreSQL tests skipped")
        pytest.fail(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's "
            "`postgresql` package, or set IMA_TEST_NO_POSTGRES=1 to skip these tests"
        )
    base = Path(tempfile.mkdtemp(prefix="ima-pg-"))
    as_user = _run_as()
    if as_user:
        owner = pwd.getpwnam(as_user[2])
        os.chown(base, owner.pw_uid, owner.pw_gid)
    data = base / "data"
    pwfile = base / "pw"
    pwfile.write_text(PASSWORD)
    if as_user:
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)
    port = _free_port()
    subprocess.run(  # noqa: S603 - fixed arguments
        [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", USER, f"--pwfile={pwfile}",
         "--auth=scram-sha-256", "-E", "UTF8", "--no-sync"],
        stdout=subprocess.DEVNULL,
        check=True,
    )  # fmt: skip
    options = f"-k {base} -c listen_addresses=127.0.0.1 -p {port} -c fsync=off"
    subprocess.run(  # noqa: S603
        [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w",
         "-o", options, "start"],
        stdout=subprocess.DEVNULL,
        check=True,
    )  # fmt: skip
    try:
        yield Server(port, base)
    finally:
        subprocess.run(  # noqa: S603
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Server]:
    yield from start_server()


@pytest.fixture
async def postgres_url(postgres_server: Server) -> str:
    """The URL of a fresh database on the session's server."""
    return await postgres_server.new_database()
