"""The Dockerfile and compose.yaml agree with the code: no image is built here, so they are read.

Each check is something that would otherwise surface only on a user's machine: a command the CLI
no longer has, a setting that was renamed, a file that moved, a root container, a baked-in secret,
or a database written outside its volume.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from sqlalchemy.engine import make_url

from bot.cli import build_parser
from bot.config import Settings, settings_from_data

ROOT = Path(__file__).resolve().parents[2]
SECRET_NAME = re.compile(r"TOKEN|PASSWORD|SECRET|API_KEY", re.IGNORECASE)
REFERENCE = re.compile(r"\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?:(?P<op>:?[-?])(?P<word>[^}]*))?\}")
# The local PostgreSQL of compose.yaml is not reachable from outside; a default password is fine.
DEFAULT_ALLOWED = {"POSTGRES_PASSWORD"}


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments) pairs, continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def arguments(text: str) -> list[str]:
    """An instruction's arguments, in JSON (exec) form or shell form."""
    if text.startswith("["):
        return list(yaml.safe_load(text))
    return shlex.split(text)


def env_pairs(text: str) -> Iterator[tuple[str, str]]:
    """``ENV A=1 B=2`` (or the old ``ENV A 1``) as name/value pairs."""
    words = shlex.split(text)
    if words and "=" not in words[0]:
        yield words[0], " ".join(words[1:])
        return
    for word in words:
        name, _, value = word.partition("=")
        yield name, value


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def compose_environment() -> Iterator[tuple[str, str, str]]:
    """(service, variable, value) for every environment entry of every service."""
    for service, spec in compose()["services"].items():
        environment = spec.get("environment", {})
        if isinstance(environment, list):
            environment = dict(entry.partition("=")[::2] for entry in environment)
        for name, value in environment.items():
            yield service, name, str(value)


def with_defaults(value: str) -> str:
    """A compose value with each ``${VAR:-default}`` replaced by its default (what runs without .env)."""
    return REFERENCE.sub(lambda m: m["word"] if m["op"] in (":-", "-") else "placeholder", value)


def our_commands() -> Iterator[tuple[str, list[str]]]:
    """Every `unstuck` command line the files run: the Dockerfile's CMD and each compose service's."""
    instructions = dict(dockerfile())
    assert arguments(instructions["ENTRYPOINT"]) == ["unstuck"]
    yield "Dockerfile CMD", arguments(instructions["CMD"])
    for service, spec in compose()["services"].items():
        if "build" in spec and "command" in spec:
            command = spec["command"]
            yield f"compose {service}", command if isinstance(command, list) else shlex.split(command)


@pytest.mark.parametrize(("where", "command"), list(our_commands()))
def test_every_unstuck_command_they_run_exists(where: str, command: list[str]) -> None:
    try:
        build_parser().parse_args(command)
    except SystemExit:
        pytest.fail(f"{where} runs `unstuck {' '.join(command)}`, which the CLI does not accept")


def unstuck_variables() -> Iterator[tuple[str, str, str]]:
    for keyword, text in dockerfile():
        if keyword == "ENV":
            for name, value in env_pairs(text):
                yield "Dockerfile", name, value
    for service, name, value in compose_environment():
        yield f"compose {service}", name, with_defaults(value)


@pytest.mark.parametrize(
    ("where", "name", "value"), [v for v in unstuck_variables() if v[1].startswith("UNSTUCK_")]
)
def test_every_unstuck_variable_is_a_real_setting_with_a_valid_value(
    where: str, name: str, value: str
) -> None:
    model: type[BaseModel] = Settings
    keys = name.removeprefix("UNSTUCK_").lower().split("__")
    for key in keys[:-1]:
        field = model.model_fields.get(key)
        assert field is not None and isinstance(field.annotation, type), f"{where}: {name} names no setting"
        model = field.annotation
    assert keys[-1] in model.model_fields, f"{where}: {name} names no setting"
    settings_from_data({}, env={name: value})  # raises ConfigError if the value is refused


def test_the_files_the_image_copies_exist() -> None:
    for keyword, text in dockerfile():
        if keyword in ("COPY", "ADD") and not text.startswith("--from"):
            *sources, _target = arguments(text)
            for source in sources:
                assert (ROOT / source).exists(), f"the Dockerfile copies {source}, not in the repository"


def test_the_image_runs_as_a_user_other_than_root() -> None:
    instructions = dockerfile()
    users = [i for i, (keyword, _) in enumerate(instructions) if keyword == "USER"]
    start = next(i for i, (keyword, _) in enumerate(instructions) if keyword in ("CMD", "ENTRYPOINT"))
    assert users and users[-1] < start, "USER must be set before the container's command"
    user = instructions[users[-1]][1].split(":")[0]
    assert user not in ("root", "0")


def test_the_image_bakes_in_no_secret() -> None:
    for keyword, text in dockerfile():
        if keyword not in ("ENV", "ARG"):
            continue
        for name, value in env_pairs(text) if keyword == "ENV" else [text.partition("=")[::2]]:
            assert not SECRET_NAME.search(name), f"the Dockerfile sets {name}: secrets come at run time"
            if "://" in value:
                assert make_url(value).password is None, f"{name} holds a password"


def test_compose_takes_every_secret_from_the_environment() -> None:
    for service, name, value in compose_environment():
        url_password = make_url(value).password if "://" in value else None
        for secret in [value] * bool(SECRET_NAME.search(name)) + [str(url_password)] * bool(url_password):
            reference = REFERENCE.fullmatch(secret)
            assert reference, f"compose {service} sets {name} to a literal secret"
            has_default = reference["op"] in (":-", "-")
            assert not has_default or reference["name"] in DEFAULT_ALLOWED, (
                f"compose {service}: {name} must not have a default, only {sorted(DEFAULT_ALLOWED)} may"
            )


def test_the_sqlite_database_lives_on_the_image_volume() -> None:
    instructions = dockerfile()
    volumes = [v for keyword, text in instructions if keyword == "VOLUME" for v in arguments(text)]
    url = dict(pair for keyword, text in instructions if keyword == "ENV" for pair in env_pairs(text))[
        "UNSTUCK_DATABASE__URL"
    ]
    database = PurePosixPath(make_url(url).database or "")
    assert database.is_absolute(), "a relative SQLite path would land in the working directory"
    assert any(database.is_relative_to(volume) for volume in volumes), f"{database} is on no volume"


def test_compose_starts_the_bot_after_the_database_is_healthy_and_migrated() -> None:
    services = compose()["services"]
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["bot"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["bot"]["depends_on"]["db"]["condition"] == "service_healthy"


def test_the_bot_connects_to_the_database_compose_creates() -> None:
    services = compose()["services"]
    database = {name: with_defaults(str(value)) for name, value in services["db"]["environment"].items()}
    for service in ("migrate", "bot"):
        url = make_url(with_defaults(services[service]["environment"]["UNSTUCK_DATABASE__URL"]))
        assert (url.host, url.username, url.password, url.database) == (
            "db",
            database["POSTGRES_USER"],
            database["POSTGRES_PASSWORD"],
            database["POSTGRES_DB"],
        ), service


def test_the_build_context_leaves_out_local_state_and_secrets() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".env", "*.db", "config.toml"} <= ignored


def test_the_license_is_the_one_pyproject_declares() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]["text"]
    lines = (ROOT / "LICENSE").read_text().splitlines()
    assert lines[0] == f"{declared} License"
    assert "Copyright (c) 2026 The Unstuck contributors" in lines
