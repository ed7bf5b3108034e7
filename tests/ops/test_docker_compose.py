"""docker/compose.yaml and the Dockerfiles cannot be run here (no Docker engine), so what they name is checked:
the Dockerfiles, images and modules exist, every app container runs the production settings, the health checks
call things that exist and match the workers' node names, the queues are the ones tasks are routed to, and the
production settings start with the environment compose gives the web."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def _cmd(dockerfile: str) -> list[str]:
    text = (DOCKER / dockerfile).read_text().replace("\\\n", " ")
    match = re.search(r"^CMD (\[.*?\])\s*$", text, re.M)
    assert match, dockerfile
    return json.loads(match.group(1))


def _interpolate(value: str, env: dict[str, str]) -> str:
    """compose's ${NAME:-default}, ${NAME:?error} and ${NAME}."""

    def one(match: re.Match) -> str:
        name, op, arg = match.group(1), match.group(2) or "", match.group(3) or ""
        if name in env and (env[name] or op != ":-"):
            return env[name]
        if op == ":?":
            raise KeyError(name)
        return arg

    return re.sub(r"\$\{([A-Z0-9_]+)(:-|:\?)?([^}]*)\}", one, str(value))


def _app_services(compose: dict) -> dict[str, dict]:
    return {name: svc for name, svc in compose["services"].items() if svc.get("image", "").startswith("shopvideo-")}


def test_dockerfiles_and_images_exist(compose):
    built = {}
    for name, service in compose["services"].items():
        if "build" in service:
            dockerfile = ROOT / service["build"]["dockerfile"]
            assert (DOCKER / service["build"]["context"]).resolve() == ROOT and dockerfile.is_file(), name
            built[service["image"]] = name
    for name, service in _app_services(compose).items():
        assert service["image"] in built, f"{name} uses an image no service builds"


def test_every_app_container_runs_the_production_settings(compose):
    services = _app_services(compose)
    assert set(services) >= {"migrate", "web", "worker-cpu", "worker-gpu-0", "beat"}
    for name, service in services.items():
        module = service["environment"]["DJANGO_SETTINGS_MODULE"]
        assert module == "shop_video.settings_production", name
        assert importlib.util.find_spec(module) is not None
    signing = {n for n, s in services.items() if s["environment"].get("SHOPVIDEO_C2PA_ENABLED") != "false"}
    assert signing == {"worker-cpu", "worker-gpu-0"}  # only the workers sign, and they get the key as secrets
    for name in signing:
        env = services[name]["environment"]
        declared = {f"/run/secrets/{s}" for s in services[name]["secrets"]}
        assert {env["SHOPVIDEO_C2PA_CERT_CHAIN"], env["SHOPVIDEO_C2PA_PRIVATE_KEY"]} == declared
        assert set(services[name]["secrets"]) <= set(compose["secrets"])


def test_web_runs_gunicorn_with_our_config_and_a_python_health_check(compose):
    argv = _cmd("web.Dockerfile")
    assert argv[:3] == ["gunicorn", "-c", "python:shop_video.gunicorn_conf"]
    assert importlib.util.find_spec("shop_video.gunicorn_conf") and importlib.util.find_spec(argv[-1].split(":")[0])
    web = compose["services"]["web"]
    check = web["healthcheck"]["test"]
    assert check[:4] == ["CMD", "python", "-m", "shop_video.ops.probe"]  # no curl in the slim image
    assert importlib.util.find_spec(check[3]) is not None
    assert (
        check[4] == "http://127.0.0.1:8000/healthz"
        and "0.0.0.0:8000" in Path(ROOT / "shop_video/gunicorn_conf.py").read_text()
    )
    assert any(re.match(p, "healthz") for p in settings.SECURE_REDIRECT_EXEMPT)  # not redirected to HTTPS
    grace = int(str(web["stop_grace_period"]).rstrip("s"))
    assert grace > int(web["environment"]["GUNICORN_GRACEFUL_TIMEOUT"])


@pytest.mark.parametrize(
    ("service", "dockerfile", "queue"),
    [("worker-cpu", "worker-cpu.Dockerfile", "cpu"), ("worker-gpu-0", "worker-gpu.Dockerfile", "gpu")],
)
def test_worker_health_checks_ping_the_workers_own_node(compose, service, dockerfile, queue):
    shell = _cmd(dockerfile)[-1]
    assert shell.startswith("exec celery -A shop_video worker")
    assert f"-Q {queue} " in shell
    node = re.search(r"--hostname (\S+)@%h", shell).group(1)  # cpu, gpu${GPU_INDEX:-0}
    check = compose["services"][service]["healthcheck"]["test"]
    assert check[0] == "CMD-SHELL"
    ping = re.search(r"celery -A shop_video inspect ping -d (\S+)@\$\$HOSTNAME", check[1])
    assert ping, check
    # compose turns $$ into $: the shell then expands GPU_INDEX and HOSTNAME, as %h does for the worker.
    assert ping.group(1).replace("$$", "$") == node.replace(":-0", "")
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {settings.CELERY_TASK_DEFAULT_QUEUE}
    assert queue in routed


def test_short_tasks_have_their_own_worker_and_never_queue_behind_renders(compose):
    from celery import current_app

    service = compose["services"]["worker-events"]
    command = service["command"]
    assert command[:4] == ["celery", "-A", "shop_video", "worker"]
    assert command[command.index("-Q") + 1] == "events"
    node = command[command.index("--hostname") + 1]
    assert node == "events@%h"
    assert "events@$$HOSTNAME" in service["healthcheck"]["test"][1]
    router = current_app.amqp.router

    def queue_of(task: str) -> str:
        return router.route({}, task, (), {})["queue"].name

    assert queue_of("generation.tasks.run_job_cpu") == "cpu" and queue_of("generation.tasks.run_job_gpu") == "gpu"
    import shop_video.celery  # noqa: F401 (the app, its tasks discovered)

    current_app.loader.import_default_modules()
    short = [name for name in current_app.tasks if not name.startswith(("celery.", "generation.tasks.run_job_"))]
    expected = {"webhooks.tasks.deliver_webhook", "billing.tasks.process_pending_events", "generation.tasks.reap_jobs"}
    assert expected <= set(short), short
    assert {queue_of(name) for name in short} == {"events"}


def test_beat_is_the_one_scheduler_and_runs_the_schedule_with_retention(compose):
    beats = [s for s in compose["services"].values() if " beat" in " ".join(map(str, s.get("command", [])))]
    assert len(beats) == 1 and beats[0]["command"][:4] == ["celery", "-A", "shop_video", "beat"]
    assert "ops-purge-expired-videos" in settings.CELERY_BEAT_SCHEDULE
    assert "reap-stale-jobs" in settings.CELERY_BEAT_SCHEDULE


def test_the_production_settings_start_with_the_environment_compose_gives_the_web(compose, tmp_path):
    given = {"DJANGO_SECRET_KEY": secrets.token_urlsafe(64), "DJANGO_ALLOWED_HOSTS": "shop.example"}
    env = {k: _interpolate(v, given) for k, v in compose["services"]["web"]["environment"].items()}
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**keep, **env, "SHOPVIDEO_VAR_DIR": str(tmp_path), "SHOPVIDEO_MEDIA_ROOT": str(tmp_path / "media")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "no issues" in result.stdout


def test_readme_and_makefile_name_the_same_compose_file_and_gunicorn_config():
    readme = (ROOT / "README.md").read_text()
    assert "docker compose -f docker/compose.yaml" in readme
    assert "gunicorn -c python:shop_video.gunicorn_conf" in readme
    demo = (ROOT / "scripts/demo.py").read_text()
    assert '"-c", "python:shop_video.gunicorn_conf"' in demo
