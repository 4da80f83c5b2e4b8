"""Bot-wide settings: loaded from a TOML file, overridden by ``UNSTUCK_*`` environment variables.

Precedence is environment > file > defaults.  Nested keys use ``__`` in
variable names (``UNSTUCK_DATABASE__URL``, ``UNSTUCK_POINTS__SOLUTION``); lists
and tables are given as JSON (``UNSTUCK_SHARDING__SHARD_IDS='[0, 1]'``).

The Discord token is the one exception: it comes only from ``DISCORD_TOKEN``,
never from the file (config files get committed, pasted and shared), and it is
kept out of ``repr()``, ``str()`` and ``model_dump()`` so it cannot leak into logs.
"""

import json
import os
import re
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)
from pydantic_settings.sources.utils import parse_env_vars
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.config.errors import ConfigError, format_validation_error, located_errors
from bot.config.guild import GuildSettings, ServerSections
from bot.config.types import SettingsSection, UpperCase, WholeNumber

DEFAULT_CONFIG_PATH = Path("config.toml")
"""Where :func:`load_settings` looks when no path is given (relative to the working directory)."""

ENV_PREFIX = "UNSTUCK_"
TOKEN_ENV_VAR = "DISCORD_TOKEN"
TOKEN_IN_FILE_MESSAGE = (
    "the token is read only from the DISCORD_TOKEN environment variable; remove it from the file"
)
_TOKEN_KEYS = frozenset({"token", "discord_token", "bot_token"})
_TOP_LEVEL_KEYS = frozenset({"timezone"})
_URL_PASSWORD_RE = re.compile(r"(?P<head>://[^/@:]*:)[^/@]*@")


def mask_url_password(url: str) -> str:
    """Hide the password in a database URL (``postgresql://bot:***@db/unstuck``) for logs."""
    return _URL_PASSWORD_RE.sub(r"\g<head>***@", url)


_ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}
"""The databases Unstuck supports, each with the async driver it needs."""


def _url_problem(url: str) -> str | None:
    """Why ``url`` cannot work as the bot's database, or ``None``.

    Checked here, when settings load, so that ``unstuck config check`` and every command refuse a
    URL that could never connect instead of failing later with a driver traceback.  Only the scheme
    is quoted back: the rest of a URL may hold a password.
    """
    if "://" not in url:
        return "must be a database URL like sqlite+aiosqlite:///unstuck.db"
    try:
        drivername = make_url(url).drivername
    except (ArgumentError, ValueError):
        return (
            "is not a valid database URL, like sqlite+aiosqlite:///unstuck.db "
            "or postgresql+asyncpg://user:password@host/dbname"
        )
    backend = drivername.partition("+")[0]
    backend = "postgresql" if backend == "postgres" else backend
    wanted = _ASYNC_DRIVERS.get(backend)
    if wanted is None:
        return (
            "must be an SQLite (sqlite+aiosqlite://) or PostgreSQL (postgresql+asyncpg://) URL; "
            f"{drivername}:// is not supported"
        )
    if drivername != f"{backend}+{wanted}":  # also catches "postgres", which SQLAlchemy dropped
        return f"must use the async driver: write {backend}+{wanted}:// instead of {drivername}://"
    return None


def _require_supported_url(url: str) -> str:
    """Refuse a database URL the bot could never connect with (see :func:`_url_problem`)."""
    problem = _url_problem(url)
    if problem:
        raise PydanticCustomError("database_url", problem)
    return url


class DatabaseSettings(SettingsSection):
    """Where the bot keeps its data: an SQLite file or a PostgreSQL database, through async drivers."""

    url: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(_require_supported_url)
    ] = "sqlite+aiosqlite:///unstuck.db"
    echo: bool = False

    @property
    def safe_url(self) -> str:
        """The URL with any password masked, for logging."""
        return mask_url_password(self.url)

    def __repr_args__(self) -> Any:
        """Like the default, but never shows a database password."""
        for name, value in super().__repr_args__():
            yield name, (mask_url_password(value) if name == "url" and isinstance(value, str) else value)


class LoggingSettings(SettingsSection):
    """How much the bot logs."""

    level: Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], UpperCase] = "INFO"


class IntentsSettings(SettingsSection):
    """Privileged gateway intents; each must also be enabled in the Discord developer portal."""

    message_content: bool = True
    members: bool = True


class ShardingSettings(SettingsSection):
    """How the bot splits its gateway connection; the defaults suit all but very large bots."""

    shard_count: Annotated[WholeNumber, Field(ge=1, le=10_000)] | None = None
    shard_ids: Annotated[list[Annotated[WholeNumber, Field(ge=0)]], Field(min_length=1)] | None = None
    auto: bool = False

    @model_validator(mode="after")
    def _shard_ids_fit_count(self) -> Self:
        """Shard ids only mean something against a known count, and must be below it and distinct."""
        if self.shard_ids is None:
            return self
        if self.shard_count is None:
            raise located_errors("ShardingSettings", [(("shard_ids",), "requires shard_count")])
        problems: list[tuple[tuple[int | str, ...], str]] = []
        for index, shard_id in enumerate(self.shard_ids):
            if shard_id >= self.shard_count:
                problems.append((("shard_ids", index), f"must be less than shard_count ({self.shard_count})"))
            elif shard_id in self.shard_ids[:index]:
                first = self.shard_ids.index(shard_id)
                problems.append((("shard_ids", index), f"repeats shard_ids[{first}]"))
        if problems:
            raise located_errors("ShardingSettings", problems)
        return self


def _blank_token_is_none(value: Any) -> Any:
    """Treat an empty ``DISCORD_TOKEN`` as unset, and drop stray blanks and newlines around it."""
    if isinstance(value, str):
        return value.strip() or None
    return value


@dataclass(frozen=True)
class _SourceData:
    """What :func:`load_settings` hands to the settings sources for one load."""

    file_data: Mapping[str, Any]
    env: Mapping[str, str]


_SOURCES: ContextVar[_SourceData | None] = ContextVar("unstuck_config_sources", default=None)


class _MappingEnvSource(EnvSettingsSource):
    """Environment variables from any mapping (``os.environ`` or one a test injects).

    Also lenient with JSON: a list or table variable that is not valid JSON is
    passed on as text, so validation reports it as a normal, located problem
    ("must be a list") instead of a crash while reading the environment.
    """

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._env = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._env, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError:
            return value


class _FileSource(PydanticBaseSettingsSource):
    """The already-parsed config file, as one settings source."""

    def __init__(self, settings_cls: type[BaseSettings], data: Mapping[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


class BotSections(SettingsSection):
    """The settings of the bot process itself, which no server can change."""

    database: DatabaseSettings = DatabaseSettings()
    logging: LoggingSettings = LoggingSettings()
    intents: IntentsSettings = IntentsSettings()
    sharding: ShardingSettings = ShardingSettings()


class Settings(ServerSections, BotSections, BaseSettings):
    """All bot-wide settings (:class:`BotSections`), plus the defaults for servers
    (:class:`~bot.config.guild.ServerSections`, ``timezone`` to ``stats``), then the token.

    Build it with :func:`load_settings`.  ``Settings()`` also works and reads
    only the environment (no file), which is handy in tests.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        case_sensitive=False,
        env_ignore_empty=True,
        extra="forbid",
        frozen=True,
        validate_default=True,
        hide_input_in_errors=True,
    )

    token: Annotated[SecretStr | None, BeforeValidator(_blank_token_is_none)] = Field(
        default=None, validation_alias=TOKEN_ENV_VAR, exclude=True, repr=False
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments, then the environment, then the config file (if loading one)."""
        sources = _SOURCES.get()
        if sources is None:
            return init_settings, _MappingEnvSource(settings_cls, os.environ)
        return (
            init_settings,
            _MappingEnvSource(settings_cls, sources.env),
            _FileSource(settings_cls, sources.file_data),
        )

    def guild_defaults(self) -> GuildSettings:
        """The settings a server has before its admins change anything."""
        values = {name: getattr(self, name) for name in ServerSections.model_fields}
        return GuildSettings.model_validate(values)

    def token_value(self) -> str | None:
        """The bot token in plain text, for logging in; ``None`` when ``DISCORD_TOKEN`` is unset."""
        return self.token.get_secret_value() if self.token is not None else None


# --------------------------------------------------------------------------- loading


def _toml_error_line(source: str, text: str, err: tomllib.TOMLDecodeError) -> str:
    """``<file>: invalid TOML at line L, column C: <msg>`` from tomllib's message."""
    message = str(err)
    located = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", message)
    if located:
        line, column = int(located[1]), int(located[2])
        message = message[: located.start()]
    else:
        lines = text.split("\n")
        line, column = len(lines), len(lines[-1]) + 1
        message = re.sub(r"\s*\(at end of document\)\s*$", "", message)
    message = message.strip() or "syntax error"
    return f"{source}: invalid TOML at line {line}, column {column}: {message[:1].lower()}{message[1:]}"


def _decode(source: str, raw: bytes) -> str:
    """The file's text; a config file must be UTF-8 (a leading byte-order mark is tolerated)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ConfigError([f"{source}: not valid UTF-8 text (bad byte at position {err.start})"]) from None


def parse_config_text(text: str, source: str = "<config>") -> dict[str, Any]:
    """Parse config TOML text, raising :class:`ConfigError` with one friendly line on bad syntax."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([_toml_error_line(source, text, err)]) from None
    except RecursionError:
        raise ConfigError([f"{source}: invalid TOML: values are nested too deeply"]) from None


def read_config_file(path: Path) -> dict[str, Any]:
    """Read and parse a config file, raising :class:`ConfigError` if it is missing or malformed."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([f"{source}: file not found"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{source}: is a directory, not a file"]) from None
    except OSError as err:
        raise ConfigError([f"{source}: cannot read the file ({err.strerror or 'unknown error'})"]) from None
    return parse_config_text(_decode(source, raw), source)


def _token_keys(data: Mapping[str, Any]) -> list[str]:
    """Top-level keys that look like someone put the token in the file."""
    return [key for key in data if isinstance(key, str) and key.casefold() in _TOKEN_KEYS]


def settings_from_data(data: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Settings:
    """Validate parsed config data (plus the environment) into :class:`Settings`.

    Raises :class:`ConfigError` listing every problem found, each as
    ``<dotted.key.path>: <reason>``.
    """
    env = os.environ if env is None else env
    problems = [f"{key}: {TOKEN_IN_FILE_MESSAGE}" for key in _token_keys(data)]
    file_data = {key: value for key, value in data.items() if key not in _token_keys(data)}
    reset = _SOURCES.set(_SourceData(file_data=file_data, env=env))
    try:
        settings = Settings()
    except ValidationError as err:
        problems.extend(_with_env_hints(_with_placement_hints(format_validation_error(err)), env))
    except SettingsError as err:
        problems.append(f"environment: {err}")
    finally:
        _SOURCES.reset(reset)
    if problems:
        raise ConfigError(problems)
    return settings


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Load settings from a TOML file with ``UNSTUCK_*`` environment overrides.

    ``path=None`` reads ``./config.toml`` if there is one (all defaults if not);
    an explicitly given path must exist.  ``env`` defaults to ``os.environ``.
    Raises :class:`ConfigError` with one line per problem.
    """
    if path is None:
        data = read_config_file(DEFAULT_CONFIG_PATH) if DEFAULT_CONFIG_PATH.is_file() else {}
    else:
        data = read_config_file(Path(path))
    return settings_from_data(data, env)


def _with_placement_hints(lines: list[str]) -> list[str]:
    """Explain the classic TOML slip: a top-level key written below a ``[table]`` lands inside it."""
    hinted: list[str] = []
    for line in lines:
        path, _, reason = line.partition(": ")
        *tables, key = path.split(".")
        misplaced = reason == "unknown setting" and len(tables) == 1 and key in _TOP_LEVEL_KEYS
        hint = f" (top-level keys like {key} must come before the first [table])" if misplaced else ""
        hinted.append(line + hint)
    return hinted


def _with_env_hints(lines: list[str], env: Mapping[str, str]) -> list[str]:
    """Point out problems that come from an ``UNSTUCK_*`` variable, since the file looks fine then."""
    names = {name.upper(): name for name in env if isinstance(name, str)}
    hinted: list[str] = []
    for line in lines:
        path, _, reason = line.partition(": ")
        variable = _env_variable_for(path, names)
        hinted.append(f"{line} (from environment variable {variable})" if variable and reason else line)
    return hinted


def _env_variable_for(path: str, names: Mapping[str, str]) -> str | None:
    """The environment variable that set ``path`` or one of the tables containing it, if any."""
    keys = re.sub(r"\[\d+\]", "", path).split(".")
    for length in range(len(keys), 0, -1):
        candidate = ENV_PREFIX + "__".join(keys[:length]).upper()
        if candidate in names:
            return names[candidate]
    return None


def settings_summary(settings: Settings) -> str:
    """The effective settings as pretty JSON with secrets hidden, for ``unstuck config show`` or logs."""
    data = settings.model_dump(mode="json")
    data["database"]["url"] = settings.database.safe_url
    data["token"] = "(set)" if settings.token is not None else "(not set)"
    return json.dumps(data, indent=2, ensure_ascii=False)
