"""`python -m bot` and the `unstuck` script (``bot.__main__:main``); the commands live in bot/cli/."""

import sys

from bot.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
