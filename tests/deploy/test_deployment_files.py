"""The deployment files, checked as far as a machine without Docker can.

compose.yaml parses and wires what docs/deployment.md says; the Dockerfile has its
stages, user and health check, and that health check works against a real gateway;
wagate.example.yaml loads through the real loader and documents every key; the
package the image installs holds every module of the checkout.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.bots.common import COMMON_KEYS
from gateway.bots.registry import plugin_classes
from gateway.config import ChannelConfig, Settings, TenantConfig, load_settings
from providers.registry import provider_classes
from tests.support.paths import ROOT
from tests.support.procs import WAGATE, Gateway, free_port

COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()
EXAMPLE = ROOT / "wagate.example.yaml"
DEPLOYMENT_DOC = (ROOT / "docs" / "deployment.md").read_text()
# What a user puts in .env beside compose.yaml (docs/deployment.md).
DOT_ENV = {"POSTGRES_PASSWORD": "pg-password", "WAGATE_REALTIME_SECRET": "realtime-secret"}
_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}`."""

    def sub(m: re.Match[str]) -> str:
        name, op, arg = m.groups()
        if env.get(name):
            return env[name]
        if op == "?":
            raise KeyError(f"{name}: {arg}")
        return arg if op == "-" else ""

    return _INTERPOLATION.sub(sub, value)


def example_env() -> dict[str, str]:
    """A value for every ${VAR} wagate.example.yaml names."""
    names = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", EXAMPLE.read_text()))
    return {name: f"{name.lower()}-value" for name in names - {"VAR"}}


def replicas() -> dict[str, dict[str, Any]]:
    """The long-running gateway services (built from this repository, serving)."""
    return {
        name: svc
        for name, svc in COMPOSE["services"].items()
        if svc.get("build") == "." and svc.get("command") is None
    }


def container_env(service: dict[str, Any]) -> dict[str, str]:
    env = {**example_env(), **DOT_ENV}
    return {k: interpolate(str(v), env) for k, v in service["environment"].items()}


# -- compose.yaml ---------------------------------------------------------------------


def test_compose_runs_two_gateway_replicas_postgres_15_and_redis() -> None:
    services = COMPOSE["services"]
    assert len(replicas()) == 2
    assert re.fullmatch(r"postgres:15(\.\d+)?(-\w+)?", services["postgres"]["image"])
    assert services["redis"]["image"].startswith("redis:")
    published = [p for svc in replicas().values() for p in svc["ports"]]
    host_ports = [p.split(":")[0] for p in published]
    assert len(set(host_ports)) == len(host_ports) == 4  # HTTP and gRPC per replica
    for svc in replicas().values():
        env = container_env(svc)
        targets = sorted(int(p.split(":")[1]) for p in svc["ports"])
        assert targets == sorted([int(env["WAGATE_HTTP_PORT"]), int(env["WAGATE_GRPC_PORT"])])


def test_compose_gateways_use_the_contract_environment() -> None:
    for svc in replicas().values():
        env = container_env(svc)
        assert env["WAGATE_HTTP_HOST"] == "0.0.0.0"
        assert env["WAGATE_DATABASE_URL"] == "postgres://wagate:pg-password@postgres:5432/wagate"
        assert env["WAGATE_REDIS_URL"].startswith("redis://redis:")
        assert env["WAGATE_REALTIME_SECRET"] == "realtime-secret"
        mounts = {v["target"]: v for v in svc["volumes"]}
        config = mounts[env["WAGATE_CONFIG"]]
        assert config["read_only"] and config["bind"]["create_host_path"] is False
    # Both replicas share one database, one Redis and one realtime secret.
    envs = [container_env(svc) for svc in replicas().values()]
    for name in ("WAGATE_DATABASE_URL", "WAGATE_REDIS_URL", "WAGATE_REALTIME_SECRET"):
        assert len({env[name] for env in envs}) == 1


def test_every_wagate_variable_in_compose_is_one_the_gateway_reads(tmp_path: Path) -> None:
    """Each WAGATE_* the compose file sets changes what the real loader builds."""
    env = container_env(next(iter(replicas().values())))
    config = tmp_path / "wagate.yaml"
    config.write_text("tenants: []\n")
    base = dataclasses.asdict(load_settings(config, {}))
    for name, value in env.items():
        if not name.startswith("WAGATE_") or name == "WAGATE_CONFIG":
            continue
        loaded = dataclasses.asdict(load_settings(config, {name: value}))
        changed = {k for k in base if base[k] != loaded[k]}
        key = name.removeprefix("WAGATE_").lower()
        assert key in changed or (key in base and str(base[key]).lower() == value.lower()), name


def test_the_example_config_passes_check_config_in_the_compose_environment(
    tmp_path: Path,
) -> None:
    env = container_env(next(iter(replicas().values())))
    env["WAGATE_CONFIG"] = str(EXAMPLE)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WAGATE_")}
    result = subprocess.run(
        [str(WAGATE), "check-config"],
        cwd=tmp_path,
        env={**clean, **example_env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "1 tenant(s), 3 channel(s)" in result.stdout


def test_compose_start_order_and_health_checks() -> None:
    services = COMPOSE["services"]
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name
    for svc in replicas().values():
        deps = svc["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy"
        assert deps["redis"]["condition"] == "service_healthy"
        assert deps["migrate"]["condition"] == "service_completed_successfully"
        assert "healthcheck" not in svc  # the image's HEALTHCHECK applies
    migrate = services["migrate"]
    assert migrate["command"] == ["migrate"] and migrate["restart"] == "no"
    named = {
        v.split(":")[0]
        for svc in services.values()
        for v in svc.get("volumes", [])
        if isinstance(v, str)
    }
    assert set(COMPOSE["volumes"]) <= named


def doc_table() -> dict[str, str]:
    """docs/deployment.md's services table: service name → its health check cell."""
    rows: dict[str, str] = {}
    for line in DEPLOYMENT_DOC.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            for name in re.findall(r"`([a-z0-9-]+)`", cells[0]):
                rows[name] = cells[2]
    return rows


def test_the_deployment_doc_lists_each_service_with_its_health_check() -> None:
    table = doc_table()
    assert set(table) == set(COMPOSE["services"])
    for name, svc in COMPOSE["services"].items():
        check = svc.get("healthcheck", {})
        if check.get("disable"):
            assert "none" in table[name], name
        elif "test" in check:
            command = check["test"][1:]
            shown = command[0] if check["test"][0] == "CMD-SHELL" else " ".join(command)
            assert f"`{shown}`" in table[name], name
        else:
            assert "`GET /healthz`" in table[name] and "/healthz" in dockerfile_healthcheck()


# -- Dockerfile -----------------------------------------------------------------------


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in lines]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    return steps[last:]


def dockerfile_healthcheck() -> str:
    (args,) = [a for op, a in final_stage() if op == "HEALTHCHECK"]
    return args.split(" CMD ", 1)[1]


def test_dockerfile_is_multi_stage_non_root_and_serves() -> None:
    stages = [a for op, a in instructions() if op == "FROM"]
    assert len(stages) >= 2 and all(" AS " in a.upper() for a in stages)
    final = final_stage()
    ops = dict(final)
    assert any(op == "COPY" and a.startswith("--from=build") for op, a in final)
    user = ops["USER"]
    assert user not in ("root", "0") and "useradd --system --uid 10001" in ops["RUN"]
    assert "WAGATE_HTTP_HOST=0.0.0.0" in ops["ENV"]
    assert ops["ENTRYPOINT"] == '["wagate"]' and ops["CMD"] == '["serve"]'
    assert "/healthz" in dockerfile_healthcheck()


def test_dockerfile_requirements_line_lists_the_project_dependencies(tmp_path: Path) -> None:
    run = next(a for op, a in instructions() if op == "RUN" and "tomllib" in a)
    script = run.split(" > requirements.txt", 1)[0]
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    shell = script.replace("python -c", f"{sys.executable} -c", 1)
    out = subprocess.run(["sh", "-c", shell], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert out.stdout.split() == deps


def test_dockerignore_keeps_what_the_install_needs() -> None:
    ignored = {
        ln.strip().rstrip("/")
        for ln in (ROOT / ".dockerignore").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    }
    needed = {"pyproject.toml", "README.md", "LICENSE", *package_roots()}
    assert not needed & ignored
    assert {".git", ".venv", "data", "tests"} <= ignored


def test_the_image_health_check_passes_on_a_live_gateway_only(
    gateways: Callable[..., Gateway],
) -> None:
    """Run the HEALTHCHECK command with this venv's python, as the image would."""
    command = dockerfile_healthcheck()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    gw = gateways(None)
    env["WAGATE_HTTP_PORT"] = str(gw.http_port)
    assert subprocess.run(["sh", "-c", command], env=env, timeout=10).returncode == 0
    gw.stop()
    env["WAGATE_HTTP_PORT"] = str(free_port())  # nothing listens there
    done = subprocess.run(["sh", "-c", command], env=env, timeout=10, capture_output=True)
    assert done.returncode != 0


# -- the package the image installs ---------------------------------------------------


def package_roots() -> set[str]:
    """Top-level directories of the checkout that `pip install .` packages."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapped = project.get("package-dir", {})
    return {mapped.get(p.split(".")[0], p.split(".")[0]).split("/")[0] for p in project["packages"]}


@pytest.mark.integration
def test_the_installed_package_holds_every_module_of_the_checkout(tmp_path: Path) -> None:
    """What the image runs is `pip install .`: a module or data file left out of
    pyproject's package list would be missing there, not in an editable install."""
    tracked = subprocess.run(
        ["git", "ls-files", *sorted(package_roots())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    src = tmp_path / "src"
    for name in [*tracked, "pyproject.toml", "README.md", "LICENSE"]:
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, src / name)
    wheel_args = ["-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist")]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", *wheel_args, str(src)],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("wagate-*.whl")
    packaged = set(zipfile.ZipFile(wheel).namelist())
    wanted = {
        name.removeprefix("proto/")
        for name in tracked
        if name.endswith((".py", ".yaml")) and "/tests/" not in name
    }
    assert wanted - packaged == set()


# -- wagate.example.yaml --------------------------------------------------------------


def documented_keys() -> set[str]:
    """Every key the loader accepts, from the config classes and the shipped plugins."""
    server = {f.name for f in dataclasses.fields(Settings)} - {"tenants", "demo", "secrets"}
    tenant = {f.name for f in dataclasses.fields(TenantConfig)}
    channel = {f.name for f in dataclasses.fields(ChannelConfig)} - {"settings"}
    providers = {
        key
        for cls in provider_classes().values()
        if cls.__module__.startswith("providers.")
        for key in cls.required_settings | cls.optional_settings
    }
    bots = {
        key
        for cls in plugin_classes().values()
        if cls.__module__.startswith("gateway.")
        for key in cls.keys
    }
    return server | tenant | channel | providers | bots | COMMON_KEYS


def yaml_keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in yaml_keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in yaml_keys(v)}
    return set()


def test_the_example_config_loads_through_the_real_loader() -> None:
    settings = load_settings(EXAMPLE, example_env())
    (tenant,) = settings.tenants
    kinds = {c.provider for c in tenant.channels}
    shipped = {n for n, c in provider_classes().items() if c.__module__.startswith("providers.")}
    assert kinds == shipped
    assert {b.plugin for b in tenant.bots} == {
        n for n, c in plugin_classes().items() if c.__module__.startswith("gateway.")
    }


def test_the_example_config_shows_every_key_with_a_comment() -> None:
    text = EXAMPLE.read_text()
    lines = text.splitlines()
    assert documented_keys() - yaml_keys(yaml.safe_load(text)) == set()
    for key in documented_keys():
        index = next(i for i, ln in enumerate(lines) if re.match(rf"^\s*(- )?{key}:", ln))
        commented = "#" in lines[index] or lines[index - 1].lstrip().startswith("#")
        assert commented, f"{key} has no comment: {lines[index]}"
