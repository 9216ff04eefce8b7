"""The production recipe, checked without Docker: the Dockerfile's, compose.yaml's and the
Procfile's commands and settings, run as separate processes on this machine against a
fresh PostgreSQL database and Redis (the same commands, the container paths mapped to
temporary directories).

Runs only when TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL are given.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import uuid
from pathlib import Path

import brotli
import pytest
import requests
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal import create_app
from tests.fixtures.database import postgres_url
from tests.fixtures.gunicorn import APP, ROOT, free_port, started, wait_ready

REDIS_URL = os.environ.get("TEST_REDIS_URL") or None
BIN = Path(sys.executable).parent


def dockerfile() -> dict:
    """ENV settings, RUN commands and CMD of the Dockerfile (continuations joined)."""
    joined = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in joined.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("#")]
    env, runs, cmd = {}, [], None
    for line in lines:
        instruction, _, rest = line.partition(" ")
        if instruction == "ENV":
            env.update(token.split("=", 1) for token in shlex.split(rest))
        elif instruction == "RUN":
            runs.append(rest)
        elif instruction == "CMD":
            cmd = json.loads(rest)
    return {"env": env, "runs": runs, "cmd": cmd}


def procfile() -> dict[str, list[str]]:
    entries = (ROOT / "Procfile").read_text().splitlines()
    return {name: shlex.split(command) for name, _, command in (e.partition(": ") for e in entries)}


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]


def env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_three_recipes_run_the_same_commands():
    services, processes, image = compose(), procfile(), dockerfile()
    assert services["web"]["command"] == image["cmd"] == processes["web"]
    assert services["worker"]["command"] == processes["worker"]
    assert processes["worker"] == ["flask", "--app", "portal", "worker"]
    assert services["migrate"]["command"] == processes["release"]
    # Every setting the portal reads is listed in the example environment file.
    listed = {
        line.lstrip("# ").split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and line.lstrip("# ").split("=", 1)[0].isupper()
    }
    config = (ROOT / "portal" / "config.py").read_text()
    read = set(re.findall(r'(?:environ\.get|_env_int|_env_bool)\("([A-Z_]+)"', config))
    assert read - listed == set()


@pytest.fixture
def fresh_database():
    """An empty PostgreSQL database: the recipe's migrate step must build the schema."""
    admin_url = make_url(postgres_url()).set(drivername="postgresql+psycopg")
    name = f"portal_recipe_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield admin_url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def local(command: list[str], paths: dict[str, str]) -> list[str]:
    """A container command on this machine: its programs from this venv, its paths mapped."""
    program = str(BIN / command[0]) if (BIN / command[0]).exists() else command[0]
    return [program, *(paths.get(arg, arg) for arg in command[1:])]


needs_services = pytest.mark.skipif(
    postgres_url() is None or REDIS_URL is None,
    reason="needs PostgreSQL (TEST_DATABASE_URL) and Redis (TEST_REDIS_URL)",
)


def recipe_env(database_url: str, tmp_path: Path, port: int) -> tuple[dict, dict]:
    """The settings a container gets (Dockerfile ENV, .env.example, compose's environment),
    with this machine's database, Redis and directories; and the container paths' map."""
    image, services = dockerfile(), compose()
    paths = {image["env"]["PORTAL_STATIC_BUILD_DIR"]: str(tmp_path / "static-build")}
    env = {
        **env_example(),
        **{key: paths.get(value, value) for key, value in image["env"].items()},
        **services["web"]["environment"],
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": "recipe-test-secret",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "RATELIMIT_KEY_PREFIX": f"recipe-{uuid.uuid4().hex}",
    }
    return env, paths


def migrate(env: dict, paths: dict) -> None:
    """compose's migrate service (the Procfile's release step)."""
    command = local(compose()["migrate"]["command"], paths)
    done = subprocess.run(
        command, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.process
@needs_services
def test_the_recipe_serves_on_postgresql_and_redis(fresh_database, tmp_path):
    image = dockerfile()
    port = free_port()
    env, paths = recipe_env(fresh_database, tmp_path, port)

    # The image build's static step (its own SECRET_KEY=... in front), then migrations.
    (build_static,) = [run for run in image["runs"] if "build-static" in run]
    words = shlex.split(build_static)
    assignments = dict(w.split("=", 1) for w in words if "=" in w and w.split("=")[0].isupper())
    command = [w for w in words if w.split("=")[0] not in assignments]
    done = subprocess.run(
        local(command, paths),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env, **assignments},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    migrate(env, paths)

    log = tmp_path / "web.log"
    with started(local(image["cmd"], paths), env, log) as web:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, web, log)
        assert requests.get(f"{url}/healthz", timeout=10).json() == {"status": "ok"}
        page = requests.get(f"{url}/auth/login", timeout=10)
        htmx = next(
            part.split('"')[0]
            for part in page.text.split('src="')[1:]
            if "htmx" in part.split('"')[0]
        )
        assert htmx.startswith("/static/vendor/htmx-2.0.11.min.") and htmx != (
            "/static/vendor/htmx-2.0.11.min.js"
        )
        asset = requests.get(url + htmx, headers={"Accept-Encoding": "br"}, timeout=10, stream=True)
        assert asset.headers["Content-Encoding"] == "br"
        assert "immutable" in asset.headers["Cache-Control"]
        assert (
            brotli.decompress(asset.raw.read())
            == (ROOT / "portal/static/vendor/htmx-2.0.11.min.js").read_bytes()
        )
        for _ in range(6):  # spread over both workers
            requests.get(f"{url}/healthz", timeout=10)
        metrics = requests.get(f"{url}/metrics", timeout=10).text
        healthz = [
            line
            for line in metrics.splitlines()
            if line.startswith("portal_http_requests_total{") and 'endpoint="ops.healthz"' in line
        ]
        # Summed over the workers, whichever one answered the scrape.
        assert healthz and float(healthz[0].rsplit(" ", 1)[1]) >= 7

    lines = log.read_text().splitlines()
    access = [json.loads(line) for line in lines if line.startswith("{") and "/healthz" in line]
    assert access and all(len(entry["request_id"]) == 32 for entry in access)
    assert {entry["status"] for entry in access} == {"200"}


def worker_registered() -> bool:
    app = create_app({"SECRET_KEY": "probe", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return "worker" in app.cli.list_commands(None)


@pytest.mark.process
@needs_services
@pytest.mark.skipif(not worker_registered(), reason="`flask --app portal worker` not built yet")
def test_the_worker_process_starts_and_keeps_running(fresh_database, tmp_path):
    env, paths = recipe_env(fresh_database, tmp_path, free_port())
    migrate(env, paths)
    log = tmp_path / "worker.log"
    # Still running after a few seconds: it found its database and Redis, and waits.
    with (
        started(local(procfile()["worker"], paths), env, log) as worker,
        pytest.raises(subprocess.TimeoutExpired),
    ):
        worker.wait(timeout=5)


@pytest.mark.process
def test_several_workers_with_in_memory_limits_refuse_to_start(tmp_path):
    """The production config with two workers and no Redis: gunicorn stops, saying why."""
    inherited = {
        k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "RATELIMIT_STORAGE_URI"}
    }
    env = {
        **inherited,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}",
        "SECRET_KEY": "refusal-test",
        "PORTAL_BIND": f"127.0.0.1:{free_port()}",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    command = [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--workers", "2", APP]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "2 worker processes with in-memory rate limits" in done.stdout + done.stderr
