"""A loopback Discord server (REST + gateway on aiohttp) that the real discord.py client connects to."""

from emulator.driver import Emulator, Problem, ThreadArchived
from emulator.interactions import InteractionReply

__all__ = ["Emulator", "InteractionReply", "Problem", "ThreadArchived"]
