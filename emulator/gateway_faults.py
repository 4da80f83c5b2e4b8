"""Gateway faults a test or benchmark injects: what real Discord does to a bot's connection.

``emu.gateway_faults`` (a :class:`GatewayFaults`) drives them::

    faults = emu.gateway_faults
    await faults.reconnect()                     # op 7: discord.py reconnects and RESUMEs
    await faults.invalid_session(resumable=True) # op 9 d=true: RESUME; d=false: IDENTIFY anew
    await faults.drop(replay=True)               # socket closed; the RESUME replays missed events
    async with faults.outage(replay=False):      # down until the block ends; events meanwhile are
        await emu.user_says(...)                 #   replayed (True) or never delivered (False)
    faults.stop_acks()                           # a zombie socket: no ACKs, nothing delivered
    faults.disallowed_intents = MESSAGE_CONTENT  # IDENTIFY asking for it is closed with 4014
    await faults.close(4014)                     # any close code
    faults.counts                                # Counter: faults injected, events replayed/lost

Each method takes ``shard`` (a shard id) to hit one shard; by default every connected session.
What discord.py does on each (read from discord/gateway.py and client.py, 2.7):

- op 7 RECONNECT, op 9 d=true, a close with a resumable code, a read timeout: close with 4000 and
  RESUME on a new socket. The emulator replays the session's dispatches after the client's last
  sequence, then sends RESUMED (Discord's order).
- op 9 d=false: forget the session, close with 1000 and IDENTIFY: READY and GUILD_CREATEs again.
  A RESUME of an invalidated session is answered with op 9 d=false, so a drop without replay
  ends the same way. Events of the gap never arrive; a user's message is still in channel history.
- Missing heartbeat ACKs: discord.py notices after ``heartbeat_timeout`` (a Client option, 60 s by
  default) without any message, closes with 4000 and resumes. Tests shorten both with
  ``heartbeat_interval_ms`` here and ``heartbeat_timeout`` on the client.
- 4014 (and 4004, 4010-4013): no reconnect; ``Client.start`` raises ``PrivilegedIntentsRequired``
  for 4014 and ``ConnectionClosed`` otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator

from emulator.gateway import INVALID_SESSION, RECONNECT, Gateway, Session

RESUMABLE_CLOSE = 4000  # "Unknown error": discord.py reconnects and resumes


class GatewayFaults:
    """The gateway side of the emulator's fault API (see the module docstring)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    @property
    def counts(self) -> Counter[str]:
        """Faults injected by kind, plus ``events_replayed``, ``events_lost``, ``resume``,
        ``resume_refused`` and ``identify``."""
        return self.gateway.counts

    @property
    def disallowed_intents(self) -> int:
        """Intent bits the application may not use; an IDENTIFY asking for any is closed with 4014."""
        return self.gateway.disallowed_intents

    @disallowed_intents.setter
    def disallowed_intents(self, bits: int) -> None:
        self.gateway.disallowed_intents = int(bits)

    @property
    def heartbeat_interval_ms(self) -> int:
        """The interval HELLO announces (Discord: 41250 ms)."""
        return self.gateway.heartbeat_interval_ms

    @heartbeat_interval_ms.setter
    def heartbeat_interval_ms(self, value: int) -> None:
        self.gateway.heartbeat_interval_ms = int(value)

    def _hit(self, shard: int | None) -> list[Session]:
        sessions = self.gateway.sessions_of(shard)
        if not sessions:
            raise RuntimeError("no connected gateway session to inject a fault into")
        return sessions

    async def reconnect(self, shard: int | None = None) -> None:
        """Send op 7 RECONNECT; the socket delivers nothing more (the client resumes elsewhere)."""
        for session in self._hit(shard):
            async with session.lock:
                conn = session.conn
                assert conn is not None
                conn.live = False
                await conn.send({"op": RECONNECT, "d": None, "s": None, "t": None})
            self.counts["reconnect"] += 1

    async def invalid_session(self, resumable: bool, shard: int | None = None) -> None:
        """Send op 9 INVALID_SESSION: d=true the client resumes; d=false it must identify anew."""
        for session in self._hit(shard):
            async with session.lock:
                conn = session.conn
                assert conn is not None
                conn.live = False
                session.resumable = resumable
                if not resumable:
                    self.gateway.sessions.pop(session.id, None)
                await conn.send({"op": INVALID_SESSION, "d": resumable, "s": None, "t": None})
            self.counts["invalid_session_resumable" if resumable else "invalid_session"] += 1

    async def drop(self, replay: bool = True, shard: int | None = None, code: int = RESUMABLE_CLOSE) -> None:
        """Close the socket. ``replay``: the RESUME gets every missed event; otherwise the session is
        gone (a gap): the RESUME is refused, the client identifies anew and misses the gap's events."""
        for session in self._hit(shard):
            async with session.lock:
                conn = session.conn
                assert conn is not None
                conn.live = False
                session.resumable = replay
            await conn.ws.close(code=code)
            self.counts["drop_replay" if replay else "drop_gap"] += 1

    @contextlib.asynccontextmanager
    async def outage(self, replay: bool = True, shard: int | None = None) -> AsyncIterator[None]:
        """Drop the connection and keep the gateway down until the block ends.

        Reconnecting clients wait for HELLO meanwhile, so events dispatched in the block are
        deterministically missed: replayed on the RESUME after the block (``replay``) or never.
        ``shard`` chooses whose socket drops; while the block lasts no new socket of any shard
        gets through (the gateway is down), sockets already open stay up.
        """
        self.gateway.hold = self.gateway.hold or asyncio.Event()
        try:
            await self.drop(replay=replay, shard=shard)
            yield
        finally:
            hold, self.gateway.hold = self.gateway.hold, None
            if hold is not None:
                hold.set()

    def stop_acks(self, shard: int | None = None) -> None:
        """Make the sockets zombies: heartbeats go unanswered and no dispatch gets through (they wait
        in the session for the RESUME that follows once the client gives up on the socket)."""
        for session in self._hit(shard):
            assert session.conn is not None
            session.conn.acks = False
            session.conn.live = False
            self.counts["heartbeat_acks_stopped"] += 1

    async def close(self, code: int, shard: int | None = None) -> None:
        """Close the sockets with ``code`` (4014: disallowed intents; 4004: bad token; ...)."""
        for session in self._hit(shard):
            assert session.conn is not None
            session.conn.live = False
            await session.conn.ws.close(code=code)
            self.counts[f"close_{code}"] += 1
