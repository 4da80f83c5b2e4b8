"""The gateway: websocket sessions, identify/resume/heartbeat, intents, shards and dispatch.

A *session* (made by IDENTIFY) holds the sequence number, intents, shard and a log of its dispatches;
a *connection* (one websocket, with its zlib stream) carries a session until it closes. As on
Discord, a session outlives its socket: events meanwhile are kept and a RESUME replays those after
the client's last sequence, then RESUMED; a client closing with 1000/1001 ends its session. A
dispatch goes to every session whose shard owns the guild, after intent filtering and never for a
channel the bot cannot view (see :mod:`emulator.intents`), and is validated against the gateway
schema: a payload real Discord would not send is an emulator bug worth recording. Faults are
injected through :mod:`emulator.gateway_faults`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import zlib
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from emulator.intents import CHANNEL_EVENT_KEY, EVENT_INTENT, MESSAGE_CONTENT
from emulator.permissions import Perm

if TYPE_CHECKING:
    from emulator.hub import Hub

log = logging.getLogger(__name__)

# Gateway opcodes (https://discord.com/developers/docs/topics/opcodes-and-status-codes).
DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE, RESUME, RECONNECT, REQUEST_MEMBERS = 0, 1, 2, 3, 4, 6, 7, 8
INVALID_SESSION, HELLO, HEARTBEAT_ACK = 9, 10, 11
HEARTBEAT_INTERVAL_MS = 41_250

CONTENT_FIELDS = {"content": "", "embeds": [], "attachments": [], "components": []}


# Closing with these codes ends the session for good (Discord docs: "Gateway > Disconnecting").
SESSION_ENDING_CLOSE_CODES = (1000, 1001)
# How many dispatches a session keeps for replay; a RESUME from further back is refused (op 9 d=false).
REPLAY_LOG_SIZE = 50_000
# A session nobody resumes (its process was killed) is dropped after missing this many events, as
# Discord drops sessions not resumed in time; its RESUME would be refused.
MAX_MISSED = 5_000


@dataclass
class Connection:
    """One websocket of a bot process. It carries a :class:`Session` once identified or resumed.

    ``live`` is False once the connection stopped delivering: after a server-sent RECONNECT or
    INVALID_SESSION, or while it is a zombie (heartbeat ACKs stopped): events then wait in the
    session's replay log instead.
    """

    ws: web.WebSocketResponse
    compress: str | None
    session: Session | None = None
    live: bool = True
    acks: bool = True
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    zlib_stream: Any = field(default_factory=zlib.compressobj)

    @property
    def open(self) -> bool:
        return self.live and not self.ws.closed

    async def send(self, payload: dict[str, Any]) -> None:
        """Send one payload as it is (dispatches get their ``s`` from the session)."""
        async with self.lock:
            if self.ws.closed:
                return
            text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
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


@dataclass
class Session:
    """A gateway session as Discord keeps it: it outlives its connection and can be resumed.

    Every dispatch gets the session's next sequence number and goes into ``log``; a RESUME replays the
    logged dispatches after the client's last sequence. ``resumable`` False: the next RESUME is
    answered with INVALID_SESSION (d=false) and nothing is kept meanwhile (a gap).
    """

    id: str = field(default_factory=lambda: secrets.token_hex(16))
    intents: int = 0
    shard: tuple[int, int] | None = None
    seq: int = 0
    conn: Connection | None = None
    resumable: bool = True
    missed: int = 0  # events kept since the connection went away
    log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=REPLAY_LOG_SIZE))
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def owns(self, guild_id: int | None) -> bool:
        """Whether this session's shard receives events of ``guild_id``."""
        if guild_id is None or self.shard is None:
            return True
        shard_id, shard_count = self.shard
        return (guild_id >> 22) % shard_count == shard_id

    @property
    def attached(self) -> bool:
        """Whether events reach the client right now."""
        return self.conn is not None and self.conn.open

    def number(self, payload: dict[str, Any], keep: bool = True) -> dict[str, Any]:
        """Give a dispatch the next sequence number (and keep it for replay)."""
        self.seq += 1
        numbered = {**payload, "s": self.seq}
        if keep:
            self.log.append(numbered)
        return numbered

    def after(self, seq: int) -> list[dict[str, Any]] | None:
        """Logged dispatches after ``seq``; None when the log no longer reaches back that far."""
        if seq > self.seq:
            return None
        if self.log and self.log[0]["s"] > seq + 1:
            return None
        return [p for p in self.log if p["s"] > seq]


def _snowflake_text(value: Any) -> Any:
    """Snowflakes (or lists of them) as strings."""
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value) if isinstance(value, int) else value


class Gateway:
    """All gateway connections and sessions of the emulator and the logic of each opcode.

    The fault switches (``hold``, ``disallowed_intents``, a connection's ``live``/``acks``) are set
    through :class:`emulator.gateway_faults.GatewayFaults`; ``counts`` tallies what happened.
    """

    def __init__(self, emulator: Hub) -> None:
        self.emu = emulator
        self.connections: list[Connection] = []
        self.sessions: dict[str, Session] = {}  # live or resumable sessions by id
        self.last_dispatch: dict[str, tuple[dict[str, Any], int | None]] = {}
        self.dispatched: list[tuple[str, dict[str, Any]]] = []  # log of (event, data) as built
        self.heartbeat_interval_ms = HEARTBEAT_INTERVAL_MS
        self.disallowed_intents = 0  # privileged intents not enabled for the app: IDENTIFY -> 4014
        self.hold: asyncio.Event | None = None  # set during an outage: new sockets wait before HELLO
        self.counts: Counter[str] = Counter()  # faults injected, events replayed / lost, resumes

    @property
    def connected(self) -> bool:
        """Whether at least one session receives events right now."""
        return any(s.attached for s in self.sessions.values())

    @property
    def listening(self) -> bool:
        """Whether some session receives events now or keeps them for a RESUME."""
        return any(s.attached or s.resumable for s in self.sessions.values())

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """The websocket endpoint: HELLO, then answer opcodes until the client goes away."""
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        compress = request.query.get("compress")
        conn = Connection(ws, compress if compress == "zlib-stream" else None)
        self.connections.append(conn)
        try:
            if self.hold is not None:
                await self.hold.wait()  # an outage: the client waits for HELLO until it ends
            hello = {"heartbeat_interval": self.heartbeat_interval_ms}
            await self._send_checked(conn, "HELLO", {"op": HELLO, "d": hello, "s": None, "t": None})
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    if msg.type == WSMsgType.BINARY:
                        self.emu.record_problem("gateway", "client sent a binary frame (ETF is unsupported)")
                    continue
                await self._on_payload(conn, json.loads(msg.data))
        finally:
            self.connections.remove(conn)
            self._detach(conn)
            self.emu.notify()
        return ws

    def _detach(self, conn: Connection) -> None:
        """A connection ended: its session waits for a RESUME, unless the client ended it (1000/1001)."""
        session = conn.session
        if session is None or session.conn is not conn:
            return
        session.conn = None
        # ``live`` is False when the emulator cut the socket: then the close code is not the client's.
        if conn.live and conn.ws.close_code in SESSION_ENDING_CLOSE_CODES:
            self.sessions.pop(session.id, None)

    async def _on_payload(self, conn: Connection, payload: dict[str, Any]) -> None:
        op, data = payload.get("op"), payload.get("d")
        if op == HEARTBEAT:
            if conn.acks:
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
        intents = int(data.get("intents", 0))
        if intents & self.disallowed_intents:
            # A privileged intent the application may not use: Discord closes with 4014.
            self.counts["close_4014"] += 1
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        session = Session(intents=intents)
        self.emu.bot_intents = intents
        if data.get("shard"):
            shard_id, shard_count = data["shard"]
            session.shard = (int(shard_id), int(shard_count))
        guilds = [g for g in self.emu.world.guilds.values() if session.owns(g.id)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": self.emu.bot_user_payload(),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
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
        if session.shard is not None:
            ready["shard"] = list(session.shard)
        conn.session, session.conn = session, conn
        self.sessions[session.id] = session
        self.counts["identify"] += 1
        async with session.lock:
            await self._emit_locked(session, "READY", ready)
            for guild in guilds:
                await self._emit_locked(session, "GUILD_CREATE", self.emu.guild_create_payload(guild.id))
        self.emu.notify()

    async def _resume(self, conn: Connection, data: dict[str, Any]) -> None:
        """Resume a session: replay what it missed after the client's ``seq``, then RESUMED.

        An unknown or invalidated session, or one whose log no longer reaches back, is refused with
        INVALID_SESSION (d=false): the client identifies anew and the missed events are gone.
        """
        self._check_client_payload("RESUME", {"op": RESUME, "d": data})
        session = self.sessions.get(str(data.get("session_id")))
        seq = int(data.get("seq") or 0)
        missed = session.after(seq) if session is not None and session.resumable else None
        if session is None or missed is None:
            if session is not None:
                self.sessions.pop(session.id, None)
            self.counts["resume_refused"] += 1
            await conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        async with session.lock:
            old = session.conn
            conn.session, session.conn = session, conn
            session.missed = 0
            if old is not None:
                old.live = False
            for payload in missed:
                await conn.send(payload)
            self.counts["events_replayed"] += len(missed)
            self.counts["resume"] += 1
            await self._emit_locked(session, "RESUMED", {}, keep=False)
        if old is not None and old is not conn:
            await old.ws.close(code=4000)  # Discord ends the old socket of a resumed session
        self.emu.notify()

    async def _request_members(self, conn: Connection, data: dict[str, Any]) -> None:
        # Discord accepts snowflakes as JSON integers here and discord.py sends them so; the schema
        # types them as strings, so compare the string form.
        as_text = {**data, "guild_id": _snowflake_text(data.get("guild_id"))}
        if "user_ids" in data:
            as_text["user_ids"] = _snowflake_text(data["user_ids"])
        self._check_client_payload("REQUEST_GUILD_MEMBERS", {"op": REQUEST_MEMBERS, "d": as_text})
        if conn.session is None:
            self.emu.record_problem("gateway", "REQUEST_GUILD_MEMBERS before IDENTIFY")
            return
        guild_ids = data["guild_id"] if isinstance(data["guild_id"], list) else [data["guild_id"]]
        for gid in guild_ids:
            chunk = self._member_chunk(int(gid), data)
            if chunk is not None:
                await self._emit(conn.session, "GUILD_MEMBERS_CHUNK", chunk)

    def _member_chunk(self, guild_id: int, data: dict[str, Any]) -> dict[str, Any] | None:
        guild = self.emu.world.guilds.get(guild_id)
        if guild is None:
            return None
        wanted = {int(u) for u in data.get("user_ids") or []}
        members = [m for m in guild.members.values() if not wanted or m.user_id in wanted]
        prefix = (data.get("query") or "").lower()
        if prefix:
            users = self.emu.world.users
            members = [m for m in members if users[m.user_id].username.lower().startswith(prefix)]
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
        return chunk

    def _check_client_payload(self, name: str, payload: dict[str, Any]) -> None:
        if not self.emu.validating:
            return
        from emulator.validation import validate_gateway

        for problem in validate_gateway(name, payload):
            self.emu.record_problem("invalid-gateway-request", problem)

    def _check_out(self, name: str, payload: dict[str, Any]) -> None:
        if not self.emu.validating:
            return
        from emulator.validation import validate_gateway

        # RESUMED and HELLO are described as whole payloads, dispatch events by their data.
        target = payload if name in ("HELLO", "RESUMED") else payload["d"]
        for problem in validate_gateway(name, target):
            self.emu.record_problem("invalid-gateway-payload", problem)

    async def _send_checked(self, conn: Connection, name: str, payload: dict[str, Any]) -> None:
        self._check_out(name, payload)
        await conn.send(payload)

    async def _emit(self, session: Session, event: str, data: dict[str, Any]) -> None:
        async with session.lock:
            await self._emit_locked(session, event, data)

    async def _emit_locked(
        self, session: Session, event: str, data: dict[str, Any], keep: bool = True
    ) -> None:
        """Number one dispatch for ``session``, keep it for replay, and send it if attached."""
        if not self._intended(session, event):
            return
        data = self._filter_content(session, event, data)
        payload = session.number({"op": DISPATCH, "d": data, "t": event}, keep)
        self._check_out(event, payload)
        if session.conn is not None and session.conn.open:
            await session.conn.send(payload)
        else:
            session.missed += 1

    def _intended(self, session: Session, event: str) -> bool:
        needed = EVENT_INTENT.get(event)
        return needed is None or bool(session.intents & needed)

    def _filter_content(self, session: Session, event: str, data: dict[str, Any]) -> dict[str, Any]:
        """Without MESSAGE_CONTENT, blank content unless the bot wrote the message or is mentioned."""
        if event not in ("MESSAGE_CREATE", "MESSAGE_UPDATE") or session.intents & MESSAGE_CONTENT:
            return data
        if not self.emu.content_visible_without_intent(data):
            return {**data, **CONTENT_FIELDS}
        return data

    def _visible(self, event: str, data: dict[str, Any]) -> bool:
        """Whether the bot may see ``event``: none of a channel it cannot view (threads: their parent)."""
        key = CHANNEL_EVENT_KEY.get(event)
        if key is None:
            return True
        keys = ("id", "parent_id") if event.startswith("THREAD_") else (key,)
        world = self.emu.world
        for name in keys:
            raw = data.get(name)
            channel = world.channel(int(raw)) if raw is not None else None
            if channel is not None:
                return self.emu.bot_can(channel.guild_id, Perm.VIEW_CHANNEL, channel.id)
        return True

    async def dispatch(self, event: str, data: dict[str, Any], guild_id: int | None) -> None:
        """Send an event to every session whose shard owns ``guild_id``.

        A session whose connection is down keeps the event for its RESUME; one cut off without
        replay (a gap) never gets it (counted as ``events_lost``).
        """
        self.last_dispatch[event] = (data, guild_id)
        self.dispatched.append((event, data))
        if not self._visible(event, data):
            return
        for session in list(self.sessions.values()):
            if not session.owns(guild_id):
                continue
            if not session.attached and not session.resumable:
                self.counts["events_lost"] += 1
                continue
            if session.missed >= MAX_MISSED:
                self.sessions.pop(session.id, None)
                self.counts["sessions_expired"] += 1
                continue
            await self._emit(session, event, data)

    def sessions_of(self, shard: int | None = None) -> list[Session]:
        """Sessions with an open connection (of one shard id when given)."""
        return [
            s
            for s in self.sessions.values()
            if s.attached and (shard is None or (s.shard[0] if s.shard else 0) == shard)
        ]

    async def close_all(
        self, code: int = 1000, predicate: Callable[[Connection], bool] | None = None
    ) -> None:
        """Close sockets from the server side (the emulator stopping, or a forced disconnect)."""
        if self.hold is not None:
            self.hold.set()
        for conn in list(self.connections):
            if predicate is None or predicate(conn):
                await conn.ws.close(code=code)
