"""Start and stop real Luma servers for the tests.

The binary is ``$LUMA_BIN`` (scripts/test.sh sets it) or, when unset, built
once per test run with ``go build`` from this checkout. Each server runs on
a free loopback port in its own temporary working directory (so no
``.env`` of the checkout leaks in), with a clean environment.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, List, Optional

HERE = Path(__file__).resolve().parent
SDK = HERE.parent
REPO = SDK.parent.parent
FIXTURES = HERE / "fixtures"
EXAMPLES = SDK / "examples"

if str(SDK) not in sys.path:
    sys.path.insert(0, str(SDK))

_bin_lock = threading.Lock()
_built: Optional[str] = None


def luma_bin() -> str:
    """Path of the server binary (built on first use when LUMA_BIN is unset)."""
    global _built
    env = os.environ.get("LUMA_BIN")
    if env:
        return env
    with _bin_lock:
        if _built is None:
            out = Path(tempfile.mkdtemp(prefix="luma-sdk-bin-")) / "luma"
            subprocess.run(["go", "build", "-o", str(out), "./cmd/luma"], cwd=REPO, check=True)
            atexit.register(shutil.rmtree, str(out.parent), True)
            _built = str(out)
        return _built


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Variables of the server's configuration that must not leak from the
# developer's environment into the test servers.
_SERVER_VARS_PREFIXES = ("LUMA_", "RUSTKISS_", "PORT_", "MAX_", "SQLITE", "DATA_DIR", "API_KEY", "EVENT_", "WAL_", "INDEX_", "HNSW_")


class Server:
    """A running ``luma serve``. ``memory=True`` runs ``--memory``; else data
    lives in ``data_dir`` (a temporary one by default) and survives
    :meth:`restart`."""

    def __init__(
        self,
        memory: bool = True,
        data_dir: Optional[str] = None,
        api_key: Optional[str] = None,
        args: Optional[List[str]] = None,
        env: Optional[Dict[str, str]] = None,
    ) -> None:
        self.memory = memory
        self.workdir = tempfile.mkdtemp(prefix="luma-sdk-test-")
        self.data_dir = data_dir or os.path.join(self.workdir, "data")
        self.api_key = api_key
        self.args = list(args or [])
        self.extra_env = dict(env or {})
        self.port = free_port()
        self.proc: Optional[subprocess.Popen] = None
        self.log_path = os.path.join(self.workdir, "server.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Server":
        cmd = [luma_bin(), "serve", "--port", str(self.port), "--bind", "127.0.0.1"]
        cmd += ["--memory"] if self.memory else ["--data-dir", self.data_dir]
        if self.api_key:
            cmd += ["--api-key", self.api_key]
        cmd += self.args
        env = {k: v for k, v in os.environ.items() if not k.startswith(_SERVER_VARS_PREFIXES)}
        env.update(self.extra_env)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"luma exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/v1/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"luma did not become healthy:\n{self.log()}")

    def stop(self) -> None:
        p, self.proc = self.proc, None
        if p is None:
            return
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def restart(self) -> "Server":
        self.stop()
        return self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log(self) -> str:
        try:
            return Path(self.log_path).read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


_shared: Optional[Server] = None
_shared_lock = threading.Lock()


def shared_server() -> Server:
    """One in-memory server shared by the test modules (tests use unique
    names so they do not interfere). Stopped at exit."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Server().start()
            atexit.register(_shared.close)
        return _shared


_uniq = 0


def uniq(prefix: str) -> str:
    """A name unique within this test run."""
    global _uniq
    _uniq += 1
    return f"{prefix}_{os.getpid()}_{_uniq}"


@contextlib.contextmanager
def route_or_skip(test: unittest.TestCase) -> Iterator[None]:
    """Run the block; if the server answers 404 ``no route`` (a module that
    has not landed on this server yet), skip the test instead of failing.
    Any other error propagates."""
    from luma import LumaError

    try:
        yield
    except LumaError as e:
        if e.is_no_route:
            test.skipTest(f"route not available yet: {e.message}")
        raise
