"""An older Python gets one clear sentence instead of a traceback from deep inside the code."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

import bot

INIT = Path(bot.__file__)


def test_an_old_python_is_told_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "version_info", (3, 10, 12, "final", 0))
    monkeypatch.setattr(sys, "version", "3.10.12 (main) [GCC]")
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(INIT))
    message = str(exit_info.value)
    assert "needs Python 3.11 or newer" in message
    assert "this is Python 3.10.12" in message


def test_the_current_python_passes() -> None:
    runpy.run_path(str(INIT))


def test_pyproject_asks_for_the_same_python() -> None:
    import tomllib

    pyproject = tomllib.loads((INIT.parent.parent / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == ">={}.{}".format(*bot.MINIMUM_PYTHON)
