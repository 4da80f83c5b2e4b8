"""``unstuck config check``: list every problem in a config file without ever crashing.

The checker runs the same code path as the bot's start-up (:func:`load_settings`),
so "the check passes" means "the bot will accept this file with this
environment".  Whatever the input (binary junk, wrong types at any depth, a
file that is not there) the result is a list of short lines, never an exception.
"""

import os
from collections.abc import Mapping
from pathlib import Path

from bot.config.errors import ConfigError
from bot.config.settings import read_config_file, settings_from_data
from bot.config.types import printable


def _unexpected(source: str, err: BaseException) -> list[str]:
    """Last-resort line for a failure nobody anticipated: short, and still not a traceback."""
    return [printable(f"{source}: could not check the settings ({type(err).__name__})")]


def check_config_data(
    data: object, env: Mapping[str, str] | None = None, source: str = "<config>"
) -> list[str]:
    """Problems with already-parsed config data (and the environment); ``[]`` when it is valid."""
    if not isinstance(data, Mapping):
        return [f"{source}: the settings must be a table of keys and values"]
    try:
        settings_from_data(data, os.environ if env is None else env)
    except ConfigError as err:
        return [printable(line) for line in err.problems]
    except Exception as err:
        return _unexpected(source, err)
    return []


def check_config_file(path: Path, env: Mapping[str, str] | None = None) -> list[str]:
    """Problems with a config file (and the environment), one ``<path>: <reason>`` line each.

    Returns ``[]`` when the bot would start with this file.  Syntax errors give a
    single ``<file>: invalid TOML at line L, column C: <msg>`` line; otherwise
    every bad or unknown key is listed at once.
    """
    source = str(path)
    try:
        data = read_config_file(Path(path))
    except ConfigError as err:
        return [printable(line) for line in err.problems]
    except Exception as err:
        return _unexpected(source, err)
    return check_config_data(data, env, source)
