"""The gateway: websocket sessions, identify/resume/heartbeat, intents, shards and dispatch.

Each connection keeps its own sequence number, zlib stream and identify data. A dispatch goes to every
identified connection whose shard owns the guild, after intent filtering, and is validated against the
gateway schema first: a payload real Discord would not send is an emulator bug worth recording.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from emulator.hub import Hub

log = logging.getLogger(__name__)

# Gateway opcodes (https://discord.com/developers/docs/topics/opcodes-and-status-codes).
DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE, RESUME, RECONNECT, REQUEST_MEMBERS = 0, 1, 2, 3, 4, 6, 7, 8
INVALID_SESSION, HELLO, HEARTBEAT_ACK = 9, 10, 11
HEARTBEAT_INTERVAL_MS = 41_250

# Intent bits.
GUILDS, GUILD_MEMBERS, GUILD_MESSAGES, GUILD_REACTIONS = 1 << 0, 1 << 1, 1 << 9, 1 << 10
MESSAGE_CONTENT = 1 << 15

# Which intent an event needs; events not listed (READY, INTERACTION_CREATE, ...) always go out.
EVENT_INTENT = {
    "GUILD_CREATE": GUILDS,
    "GUILD_UPDATE": GUILDS,
    "GUILD_DELETE": GUILDS,
    "GUILD_ROLE_CREATE": GUILDS,
    "GUILD_ROLE_UPDATE": GUILDS,
    "GUILD_ROLE_DELETE": GUILDS,
    "CHANNEL_CREATE": GUILDS,
    "CHANNEL_UPDATE": GUILDS,
    "CHANNEL_DELETE": GUILDS,
    "THREAD_CREATE": GUILDS,
    "THREAD_UPDATE": GUILDS,
    "THREAD_DELETE": GUILDS,
    "GUILD_MEMBER_ADD": GUILD_MEMBERS,
    "GUILD_MEMBER_REMOVE": GUILD_MEMBERS,
    "GUILD_MEMBER_UPDATE": GUILD_MEMBERS,
    "MESSAGE_CREATE": GUILD_MESSAGES,
    "MESSAGE_UPDATE": GUILD_MESSAGES,
    "MESSAGE_DELETE": GUILD_MESSAGES,
    "MESSAGE_REACTION_ADD": GUILD_REACTIONS,
    "MESSAGE_REACTION_REMOVE": GUILD_REACTIONS,
}
CONTENT_FIELDS = {"content": "", "embeds": [], "attachments": [], "components": []}


@dataclass
class Connection:
    """One websocket session of a bot process (one shard)."""

    ws: web.WebSocketResponse
    compress: str | None
    session_id: str = field(default_factory=lambda: secrets.token_hex(16))
    seq: int = 0
    identified: bool = False
    intents: int = 0
    shard: tuple[int, int] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    zlib_stream: Any = field(default_factory=zlib.compressobj)

    def owns(self, guild_id: int | None) -> bool:
        """Whether this session's shard receives events of ``guild_id``."""
        if guild_id is None or self.shard is None:
            return True
        shard_id, shard_count = self.shard
        return (guild_id >> 22) % shard_count == shard_id

    async def send(self, payload: dict[str, Any]) -> None:
        """Send one payload; dispatches get the next sequence number."""
        async with self.lock:
            if payload.get("op") == DISPATCH:
                self.seq += 1
                payload = {**payload, "s": self.seq}
            text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
            if self.ws.closed:
                return
            try:
                if self.compress == "zlib-stream":
                    # One stream per connection; Z_SYNC_FLUSH ends each message with 00 00 ff ff,
                    # which is how discord.py detects a complete message.
                    data = self.zlib_stream.compress(text.encode()) + self.zlib_stream.flush(
                        zlib.Z_SYNC_FLUSH
                    )
                    await self.ws.send_bytes(data)
                else:
                    # discord.py accepts uncompressed text frames whatever it asked for.
                    await self.ws.send_str(text)
            except (ConnectionResetError, RuntimeError) as exc:
                log.debug("gateway send failed: %s", exc)


def _snowflake_text(value: Any) -> Any:
    """Snowflakes (or lists of them) as strings."""
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value) if isinstance(value, int) else value


class Gateway:
    """All gateway sessions of the emulator and the logic of each opcode."""

    def __init__(self, emulator: Hub) -> None:
        self.emu = emulator
        self.connections: list[Connection] = []
        self.last_dispatch: dict[str, tuple[dict[str, Any], int | None]] = {}
        self.dispatched: list[tuple[str, dict[str, Any]]] = []  # log of (event, data) as built
        self.sessions: dict[str, Connection] = {}  # session id -> last connection, for RESUME

    @property
    def connected(self) -> bool:
        """Whether at least one identified session is open."""
        return any(c.identified and not c.ws.closed for c in self.connections)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """The websocket endpoint: HELLO, then answer opcodes until the client goes away."""
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        compress = request.query.get("compress")
        conn = Connection(ws, compress if compress == "zlib-stream" else None)
        self.connections.append(conn)
        try:
            await self._send_checked(
                conn,
                "HELLO",
                {"op": HELLO, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}, "s": None, "t": None},
            )
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    if msg.type == WSMsgType.BINARY:
                        self.emu.record_problem("gateway", "client sent a binary frame (ETF is unsupported)")
                    continue
                await self._on_payload(conn, json.loads(msg.data))
        finally:
            self.connections.remove(conn)
            self.emu.notify()
        return ws

    async def _on_payload(self, conn: Connection, payload: dict[str, Any]) -> None:
        op, data = payload.get("op"), payload.get("d")
        if op == HEARTBEAT:
            await conn.send({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            await self._identify(conn, data)
        elif op == RESUME:
            await self._resume(conn, data)
        elif op == REQUEST_MEMBERS:
            await self._request_members(conn, data)
        elif op in (PRESENCE, VOICE):
            pass  # presence/voice updates change nothing the tests observe
        else:
            self.emu.record_problem("gateway", f"unknown opcode from client: {op}")

    async def _identify(self, conn: Connection, data: dict[str, Any]) -> None:
        self._check_client_payload("IDENTIFY", {"op": IDENTIFY, "d": data})
        conn.intents = int(data.get("intents", 0))
        self.emu.bot_intents = conn.intents
        if data.get("shard"):
            shard_id, shard_count = data["shard"]
            conn.shard = (int(shard_id), int(shard_count))
        guilds = [g for g in self.emu.world.guilds.values() if conn.owns(g.id)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": self.emu.bot_user_payload(),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": conn.session_id,
            "resume_gateway_url": self.emu.gateway_url,
            "application": {"id": str(self.emu.application_id), "flags": 0, "flags_new": "0"},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "session_type": "normal",
            "auth": {},
        }
        if conn.shard is not None:
            ready["shard"] = list(conn.shard)
        conn.identified = True
        self.sessions[conn.session_id] = conn
        await self._dispatch_to(conn, "READY", ready)
        for guild in guilds:
            await self._dispatch_to(conn, "GUILD_CREATE", self.emu.guild_create_payload(guild.id))
        self.emu.notify()

    async def _resume(self, conn: Connection, data: dict[str, Any]) -> None:
        """Resume an old session's sequence. Nothing is replayed: events missed while down stay missed."""
        self._check_client_payload("RESUME", {"op": RESUME, "d": data})
        old = self.sessions.get(str(data.get("session_id")))
        if old is None:
            await conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        conn.session_id, conn.intents, conn.shard = old.session_id, old.intents, old.shard
        conn.seq = int(data.get("seq") or 0)
        conn.identified = True
        self.sessions[conn.session_id] = conn
        await self._dispatch_to(conn, "RESUMED", {})
        self.emu.notify()

    async def _request_members(self, conn: Connection, data: dict[str, Any]) -> None:
        # Discord accepts snowflakes as JSON integers here and discord.py sends them so; the schema
        # types them as strings, so compare the string form.
        as_text = {**data, "guild_id": _snowflake_text(data.get("guild_id"))}
        if "user_ids" in data:
            as_text["user_ids"] = _snowflake_text(data["user_ids"])
        self._check_client_payload("REQUEST_GUILD_MEMBERS", {"op": REQUEST_MEMBERS, "d": as_text})
        guild_ids = data["guild_id"] if isinstance(data["guild_id"], list) else [data["guild_id"]]
        wanted = {int(u) for u in data.get("user_ids") or []}
        for gid in guild_ids:
            guild = self.emu.world.guilds.get(int(gid))
            if guild is None:
                continue
            members = [m for m in guild.members.values() if not wanted or m.user_id in wanted]
            prefix = (data.get("query") or "").lower()
            if prefix:
                members = [
                    m for m in members if self.emu.world.users[m.user_id].username.lower().startswith(prefix)
                ]
            chunk: dict[str, Any] = {
                "guild_id": str(guild.id),
                "members": [self.emu.member_payload(guild.id, m.user_id) for m in members],
                "chunk_index": 0,
                "chunk_count": 1,
            }
            if wanted:
                chunk["not_found"] = [str(u) for u in wanted - set(guild.members)]
            if data.get("nonce") is not None:
                chunk["nonce"] = data["nonce"]
            await self._dispatch_to(conn, "GUILD_MEMBERS_CHUNK", chunk)

    def _check_client_payload(self, name: str, payload: dict[str, Any]) -> None:
        if not self.emu.validating:
            return
        from emulator.validation import validate_gateway

        for problem in validate_gateway(name, payload):
            self.emu.record_problem("invalid-gateway-request", problem)

    async def _send_checked(self, conn: Connection, name: str, payload: dict[str, Any]) -> None:
        if self.emu.validating:
            from emulator.validation import validate_gateway

            # RESUMED and HELLO are described as whole payloads, dispatch events by their data.
            target = payload if name in ("HELLO", "RESUMED") else payload["d"]
            if name == "RESUMED":
                target = {**payload, "s": conn.seq + 1}
            for problem in validate_gateway(name, target):
                self.emu.record_problem("invalid-gateway-payload", problem)
        await conn.send(payload)

    async def _dispatch_to(self, conn: Connection, event: str, data: dict[str, Any]) -> None:
        if not self._intended(conn, event):
            return
        data = self._filter_content(conn, event, data)
        await self._send_checked(conn, event, {"op": DISPATCH, "d": data, "t": event})

    def _intended(self, conn: Connection, event: str) -> bool:
        needed = EVENT_INTENT.get(event)
        return needed is None or bool(conn.intents & needed)

    def _filter_content(self, conn: Connection, event: str, data: dict[str, Any]) -> dict[str, Any]:
        """Without MESSAGE_CONTENT, blank content unless the bot wrote the message or is mentioned."""
        if event not in ("MESSAGE_CREATE", "MESSAGE_UPDATE") or conn.intents & MESSAGE_CONTENT:
            return data
        if not self.emu.content_visible_without_intent(data):
            return {**data, **CONTENT_FIELDS}
        return data

    async def dispatch(self, event: str, data: dict[str, Any], guild_id: int | None) -> None:
        """Send an event to every identified session whose shard owns ``guild_id``."""
        self.last_dispatch[event] = (data, guild_id)
        self.dispatched.append((event, data))
        for conn in list(self.connections):
            if conn.identified and not conn.ws.closed and conn.owns(guild_id):
                await self._dispatch_to(conn, event, data)

    async def close_all(
        self, code: int = 1000, predicate: Callable[[Connection], bool] | None = None
    ) -> None:
        """Close sessions from the server side (a Discord outage or a forced reconnect)."""
        for conn in list(self.connections):
            if predicate is None or predicate(conn):
                await conn.ws.close(code=code)
