"""The production deployment: docker-compose.yml and the Dockerfile, checked against the
code they run (config/settings.py, config/wsgi.py, config/celery.py). No database needed."""

import ast
import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SETTINGS_FILE = ROOT / "config" / "settings.py"

SERVICES = {"web", "worker", "beat", "db", "redis"}
APP_SERVICES = ("web", "worker", "beat")
# The django-environ readers config/settings.py may use: env("X") and env.<reader>("X").
ENV_READERS = {"str", "bool", "int", "list", "db", "path", "email_url"}


# --- helpers -------------------------------------------------------------------------------


def load_compose() -> dict:
    # safe_load resolves YAML anchors and `<<` merge keys (the shared x-app-env block).
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_compose()


def service_env(service: dict) -> dict:
    """A service's environment as a dict, from either the mapping or the list form."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in environment)
    return dict(environment)


def missing_env(service: dict, names) -> set:
    """Names not given a non-empty value in the service's environment."""
    env = service_env(service)
    return {name for name in names if env.get(name) in (None, "")}


def command_text(service: dict) -> str:
    command = service.get("command") or ""
    return " ".join(command) if isinstance(command, list) else str(command)


def depends_on_healthy(service: dict) -> set:
    """Services this one waits for until they report healthy."""
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):  # the short form waits only for "started"
        return set()
    return {
        name
        for name, spec in depends.items()
        if isinstance(spec, dict) and spec.get("condition") == "service_healthy"
    }


def named_volume_mounts(service: dict, compose: dict) -> dict:
    """{target path: volume name} for the service's mounts of top-level named volumes."""
    named = set(compose.get("volumes") or {})
    mounts = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            source, target = volume.get("source"), volume.get("target")
            if volume.get("type", "volume") != "volume":
                continue
        else:
            parts = str(volume).split(":")
            if len(parts) < 2:
                continue
            source, target = parts[0], parts[1]
        if source in named:
            mounts[target] = source
    return mounts


def settings_env_reads() -> dict:
    """{variable name: has a default} for every env(...) / env.<reader>(...) call in
    config/settings.py whose first positional argument is a string constant."""
    tree = ast.parse(SETTINGS_FILE.read_text(encoding="utf-8"), filename=str(SETTINGS_FILE))
    reads: dict[str, bool] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        is_env_call = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute)
            and func.attr in ENV_READERS
            and isinstance(func.value, ast.Name)
            and func.value.id == "env"
        )
        first = node.args[0]
        if not (is_env_call and isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        has_default = any(keyword.arg == "default" for keyword in node.keywords)
        # Read twice (e.g. SECURE_COOKIES): required if any read lacks a default.
        reads[first.value] = reads.get(first.value, True) and has_default
    return reads


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with backslash continuations joined."""
    instructions = []
    current = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):  # comment inside a continued instruction
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        keyword, _, arguments = current.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    return instructions


# --- services ------------------------------------------------------------------------------


def test_compose_defines_web_worker_beat_db_and_redis(compose):
    missing = SERVICES - set(compose.get("services") or {})
    assert not missing, f"docker-compose.yml lacks services: {missing}"


# --- environment -----------------------------------------------------------------------------


def test_production_env_vars_are_provided_to_web_worker_and_beat(compose):
    required = set(settings.PRODUCTION_ENV_VARS)
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"} <= required
    services = compose["services"]
    missing = {name: missing_env(services[name], required) for name in APP_SERVICES}
    assert missing == {name: set() for name in APP_SERVICES}


def test_settings_env_scan_finds_the_variables_settings_reads():
    reads = settings_env_reads()
    assert reads, "the AST scan of config/settings.py found no env(...) calls"
    assert "DATABASE_URL" in reads
    assert {"SECRET_KEY", "REDIS_URL", "ALLOWED_HOSTS", "MEDIA_ROOT"} <= set(reads)


def test_env_vars_settings_read_without_a_default_are_provided_to_web_and_worker(compose):
    required = {name for name, has_default in settings_env_reads().items() if not has_default}
    services = compose["services"]
    missing = {name: missing_env(services[name], required) for name in ("web", "worker")}
    assert missing == {"web": set(), "worker": set()}


def test_every_app_env_var_in_compose_is_one_settings_reads(compose):
    """Catches typos: a misspelt variable would be silently ignored by settings."""
    reads = set(settings_env_reads())
    for name in APP_SERVICES:
        unknown = set(service_env(compose["services"][name])) - reads
        assert not unknown, f"{name} sets variables config/settings.py never reads: {unknown}"


def test_app_services_run_with_debug_off(compose):
    for name in APP_SERVICES:
        debug = str(service_env(compose["services"][name]).get("DEBUG", "0")).lower()
        assert debug in {"0", "false", "no", "off", ""}, f"{name} runs with DEBUG={debug}"


# --- images and builds ---------------------------------------------------------------------


def test_built_services_point_at_a_directory_with_a_dockerfile(compose):
    built = {name: spec for name, spec in compose["services"].items() if "build" in spec}
    assert set(APP_SERVICES) <= set(built)
    for name, spec in built.items():
        build = spec["build"]
        if isinstance(build, str):
            context, dockerfile = build, "Dockerfile"
        else:
            context, dockerfile = build.get("context", "."), build.get("dockerfile", "Dockerfile")
        context_dir = (COMPOSE_FILE.parent / context).resolve()
        assert context_dir.is_dir(), f"{name}: build context {context_dir} does not exist"
        assert (context_dir / dockerfile).is_file(), f"{name}: no {dockerfile} in {context_dir}"


def test_db_runs_postgres_16_and_redis_runs_redis_7(compose):
    services = compose["services"]
    assert re.fullmatch(r"(docker\.io/)?(library/)?postgres:16([.-].*)?", services["db"]["image"])
    assert re.fullmatch(r"(docker\.io/)?(library/)?redis:7([.-].*)?", services["redis"]["image"])


# --- commands ----------------------------------------------------------------------------------


def test_web_command_serves_config_wsgi_application(compose):
    assert "config.wsgi:application" in command_text(compose["services"]["web"])
    assert importlib.util.find_spec("config.wsgi") is not None


def test_worker_and_beat_commands_use_the_config_celery_app(compose):
    assert (ROOT / "config" / "celery.py").is_file()
    services = compose["services"]
    assert re.search(r"\bcelery\b.*\bworker\b", command_text(services["worker"]))
    assert re.search(r"\bcelery\b.*\bbeat\b", command_text(services["beat"]))
    for name in ("worker", "beat"):
        assert re.search(r"(-A|--app)[ =]config(\s|$)", command_text(services[name])), name


def test_dockerfile_cmd_serves_config_wsgi():
    commands = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "CMD"]
    assert commands, "the Dockerfile has no CMD"
    assert "config.wsgi" in commands[-1]  # the last CMD is the one that counts


# --- health and start order --------------------------------------------------------------------


def test_web_db_and_redis_have_healthchecks(compose):
    services = compose["services"]
    for name in ("web", "db", "redis"):
        healthcheck = services[name].get("healthcheck") or {}
        assert healthcheck.get("test") and not healthcheck.get("disable"), name
    assert "/healthz" in str(services["web"]["healthcheck"]["test"])


def test_web_and_worker_wait_for_healthy_db_and_redis(compose):
    services = compose["services"]
    for name in ("web", "worker"):
        assert {"db", "redis"} <= depends_on_healthy(services[name]), name


# --- volumes -----------------------------------------------------------------------------------


def test_database_data_is_on_a_named_volume(compose):
    mounts = named_volume_mounts(compose["services"]["db"], compose)
    assert "/var/lib/postgresql/data" in mounts


def test_media_and_private_files_are_two_minio_buckets_shared_by_web_and_worker(compose):
    """Every replica reads and writes the same files through the storage API: both app
    services use MinIO, with a public media bucket and a separate private one."""
    services = compose["services"]
    assert "minio" in services
    assert "/data" in named_volume_mounts(services["minio"], compose)
    buckets = set()
    for name in ("web", "worker", "backup"):
        env = service_env(services[name])
        assert env["S3_ENDPOINT_URL"] == "http://minio:9000", name
        assert env["S3_MEDIA_BUCKET"] != env["S3_PRIVATE_BUCKET"]
        assert ":?" in env["S3_SECRET_ACCESS_KEY"]
        buckets.add((env["S3_MEDIA_BUCKET"], env["S3_PRIVATE_BUCKET"]))
    assert len(buckets) == 1
    init = command_text(services["minio-init"]) + str(services["minio-init"].get("entrypoint"))
    media, private = buckets.pop()
    assert f"mc anonymous set download store/{media}" in init
    assert f"mc anonymous set none store/{private}" in init


def test_the_proxy_serves_media_from_the_public_bucket_and_nothing_private(compose):
    services = compose["services"]
    published = {name for name, spec in services.items() if spec.get("ports")}
    assert published == {"proxy"}, "only the proxy may be reachable from outside"
    volumes = " ".join(services["proxy"].get("volumes") or [])
    assert "deploy/nginx.conf" in volumes
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    env = service_env(services["web"])
    assert "location /media/" in conf
    assert f"proxy_pass http://minio:9000/{env['S3_MEDIA_BUCKET']}/;" in conf
    assert env["S3_PRIVATE_BUCKET"] not in conf
    assert "proxy_pass http://nongsan_web;" in conf and "server web:8000;" in conf


def test_a_daily_backup_keeps_the_newest_archives(compose):
    backup = compose["services"]["backup"]
    command = command_text(backup)
    assert "manage.py backup" in command and "--keep" in command and "sleep 86400" in command
    assert "/backups" in named_volume_mounts(backup, compose)
    assert "--output /backups" in command
    dockerfile = DOCKERFILE.read_text()
    assert "postgresql-client-16" in dockerfile  # pg_dump of the server's major version


def test_production_requires_the_personal_data_key(compose):
    assert "PERSONAL_DATA_KEY" in settings.PRODUCTION_ENV_VARS
    assert settings_env_reads()["PERSONAL_DATA_KEY"] is True  # a default for DEBUG=1 only
    for name in APP_SERVICES:
        assert ":?" in service_env(compose["services"][name])["PERSONAL_DATA_KEY"]


# --- Dockerfile ----------------------------------------------------------------------------


def test_dockerfile_installs_from_requirements_lock():
    assert (ROOT / "requirements.lock").is_file()
    instructions = dockerfile_instructions()
    assert any(
        keyword == "RUN" and "pip install" in arguments and "requirements.lock" in arguments
        for keyword, arguments in instructions
    )
    assert any(
        keyword == "COPY" and "requirements.lock" in arguments
        for keyword, arguments in instructions
    )


def test_dockerfile_does_not_run_as_root():
    users = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "USER"]
    assert users, "the Dockerfile has no USER line: the container would run as root"
    user = users[-1].split(":")[0].strip()
    assert user not in {"root", "0"}


# --- docker compose itself -----------------------------------------------------------------


def test_docker_compose_config_accepts_the_file():
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("docker client not installed: cannot run `docker compose config`")
    version = subprocess.run(
        [docker, "compose", "version"], capture_output=True, text=True, timeout=60
    )
    if version.returncode != 0:
        pytest.skip("the docker compose plugin is not installed: `docker compose version` failed")
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE_FILE), "config", "-q"],
        cwd=ROOT,
        env={
            **os.environ,
            "SECRET_KEY": "compose-config-check-" + "k" * 40,
            "PERSONAL_DATA_KEY": "compose-config-check-" + "p" * 40,
            "TRACE_SIGNING_KEY": "Y29tcG9zZS1jb25maWctY2hlY2sta2V5LTMyYnl0ZXM=",
            "S3_SECRET_ACCESS_KEY": "compose-config-check-" + "s" * 20,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
