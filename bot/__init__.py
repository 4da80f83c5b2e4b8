"""Unstuck: a support bot for developer communities on Discord."""

import sys

# Checked before anything else is imported, so an older Python gets one clear line, not a
# SyntaxError from deep inside a module. Keep this file parseable by old Pythons.
MINIMUM_PYTHON = (3, 11)

if sys.version_info < MINIMUM_PYTHON:
    raise SystemExit(
        "Unstuck needs Python {}.{} or newer, but this is Python {}. Install a newer Python and "
        "create the virtual environment with it (python3.11 -m venv .venv).".format(
            *MINIMUM_PYTHON, sys.version.split()[0]
        )
    )
