"""Application commands, interactions and their responses (callback, @original, follow-ups).

The driver side builds INTERACTION_CREATE payloads from the commands the bot synced and waits for the
bot's answer; the REST side stores synced commands and handles the callback and webhook routes.

Discord's clock rules: the first response (callback) must come within ``deadline`` seconds (3, see
:mod:`emulator.timing` for how load is kept out of it); later Discord answers 10062 Unknown
interaction, the user sees "The application did not respond", and the emulator records an
``interaction-late`` problem. The token works for 15 minutes of the emulator's clock; afterwards
follow-ups and edits get 401 / 50027 Invalid Webhook Token (problem ``interaction-token-expired``).
Autocomplete interactions (type 4) are answered with callback type 8 and its choices.
``response_times`` keeps each first response's time as the deadline saw it and ``late`` counts the
misses; a benchmark whose bot runs in its own process sets ``watched_pid`` to that process so its
waits for a CPU are the ones discounted.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from emulator.commands import CHAT_INPUT, MESSAGE_COMMAND, USER_COMMAND, CommandOptions
from emulator.messages import EPHEMERAL, LOADING, message_dict
from emulator.permissions import Perm
from emulator.rest import (
    Call,
    DiscordError,
    check_limits,
    get_message,
    invalid_form,
    new_bot_message,
    not_found,
    record_pings,
)
from emulator.state import Channel, Message, channel_dict, member_dict, user_dict
from emulator.timing import Stopwatch

if TYPE_CHECKING:
    from emulator.hub import Hub

# Interaction types, callback types, command and option types.
APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE = 2, 3, 4
CHANNEL_MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, MODAL = 4, 5, 6, 7, 9
AUTOCOMPLETE_RESULT = 8
MAX_CHOICES = 25
DEADLINE = 3.0  # seconds for the first response
TOKEN_LIFETIME = timedelta(minutes=15)
# Message types of interaction responses: slash command and context menu replies.
RESPONSE_MESSAGE_TYPE = {CHAT_INPUT: 20, MESSAGE_COMMAND: 23, USER_COMMAND: 23}
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
GUILD_CONTEXT = 0  # an interaction context: a guild channel (1: the bot's DM, 2: private channels)


class ApplicationDidNotRespond(AssertionError):
    """The bot's first response missed Discord's deadline: the user saw "The application did not
    respond" (an AssertionError, so a test driving the interaction fails)."""


def _permissions_string(value: int | str | None) -> str | None:
    """Bots may send a permissions integer as a number or a string; Discord answers with a string."""
    return None if value is None else str(value)


def _holds(granted: int, required: int | str | None) -> bool:
    """Whether permissions ``granted`` in a channel satisfy a command's ``default_member_permissions``."""
    if required is None or granted & Perm.ADMINISTRATOR:
        return True
    needed = int(required)
    return needed != 0 and granted & needed == needed


def flatten_text(content: str, embeds: list[dict[str, Any]]) -> str:
    """Content plus every embed's title, description, field names/values, author and footer."""
    parts = [content]
    for embed in embeds:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        for item in embed.get("fields") or []:
            parts += [item.get("name") or "", item.get("value") or ""]
        parts.append((embed.get("author") or {}).get("name") or "")
        parts.append((embed.get("footer") or {}).get("text") or "")
    return "\n".join(p for p in parts if p)


@dataclass
class InteractionReply:
    """The bot's answer to one interaction, as the user sees it."""

    type: int | None = None
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    ephemeral: bool = False
    message_id: int | None = None
    followups: list[dict[str, Any]] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    choices: list[dict[str, Any]] | None = None  # the answer to an autocomplete interaction
    acknowledged_at: float | None = None  # time.perf_counter() when the first response arrived

    def text(self) -> str:
        """Content and embed text flattened into one string, for easy ``in`` assertions."""
        return flatten_text(self.content, self.embeds)

    def show(self, msg: Message, followup: bool = False) -> None:
        """Reflect ``msg`` (the response, or the updated component message)."""
        self.content, self.embeds, self.components = msg.content, msg.embeds, msg.components
        self.ephemeral = bool(msg.flags & EPHEMERAL)
        # Ephemeral messages have real ids too: their buttons can be clicked by whoever sees them.
        self.message_id = msg.id


@dataclass
class Pending:
    """An interaction sent to the bot and the state of its response."""

    id: int
    token: str
    channel: Channel
    user_id: int
    command_type: int | None  # None for component interactions
    metadata: dict[str, Any]
    component_message: Message | None = None
    callback_type: int | None = None
    original: Message | None = None
    followups: list[Message] = field(default_factory=list)
    reply: InteractionReply = field(default_factory=InteractionReply)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    kind: int = APPLICATION_COMMAND
    created_at: datetime | None = None  # the emulator clock's time, for the token's 15 minutes
    stopwatch: Stopwatch | None = None  # started when INTERACTION_CREATE goes out
    failure: str | None = None  # why the user saw an error instead of an answer


class Interactions:
    """Synced commands, interactions in flight, and ephemeral messages."""

    def __init__(self, emu: Hub) -> None:
        self.emu = emu
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        # The last bulk sync exactly as the bot sent it (key None: global), before Discord's defaults.
        self.sync_payloads: dict[int | None, list[dict[str, Any]]] = {}
        self.pending: dict[str, Pending] = {}
        self.ephemeral: dict[int, Message] = {}
        self.deadline: float | None = DEADLINE  # None: no deadline
        self.token_lifetime = TOKEN_LIFETIME  # of the emulator's clock (a sped-up one: longer)
        self.watched_pid: int | None = None  # whose CPU waits to discount (default: this process)
        self.options = CommandOptions(emu.world, emu.bot_user_id, self.find_command)
        self.response_times: list[float] = []  # seconds to each first response, as the deadline sees it
        self.late = 0  # interactions whose user saw "The application did not respond" (benchmarks)

    # ------------------------------------------------------------------ commands

    def find_command(self, guild_id: int, name: str, kind: int) -> dict[str, Any]:
        """A synced command by name and type: guild commands first, then global."""
        for cmd in [*self.guild_commands.get(guild_id, []), *self.global_commands]:
            if cmd["name"] == name and cmd.get("type", CHAT_INPUT) == kind:
                return cmd
        synced = [c["name"] for c in [*self.guild_commands.get(guild_id, []), *self.global_commands]]
        raise LookupError(f"no synced command {name!r} of type {kind} in guild {guild_id}; synced: {synced}")

    def offered_to(self, user_id: int, channel_id: int) -> set[str]:
        """The top-level commands Discord offers this member in this guild channel.

        Discord shows a command only where its ``contexts`` allow (guild = 0) and only to members
        holding all of its ``default_member_permissions`` there ("0": administrators only);
        the guild owner and administrators see everything.
        """
        world = self.emu.world
        channel = self.emu.channel_or_raise(channel_id)
        granted = world.channel_permissions(channel.id, user_id)
        commands = [*self.guild_commands.get(channel.guild_id, []), *self.global_commands]
        return {
            cmd["name"]
            for cmd in commands
            if GUILD_CONTEXT in (cmd.get("contexts") or [GUILD_CONTEXT])
            and _holds(granted, cmd.get("default_member_permissions"))
        }

    # ------------------------------------------------------------------ driver side

    def _base(self, kind: int, user_id: int, channel: Channel) -> tuple[Pending, dict[str, Any]]:
        world = self.emu.world
        member = world.member(channel.guild_id, user_id)
        if member is None:
            raise LookupError(f"user {user_id} is not a member of guild {channel.guild_id}")
        iid, token = self.emu.ids.next(), self.emu.new_token()
        perms = str(world.channel_permissions(channel.id, user_id))
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.emu.application_id),
            "type": kind,
            "token": token,
            "version": 1,
            "guild_id": str(channel.guild_id),
            "guild": {"id": str(channel.guild_id), "locale": "en-US", "features": ["COMMUNITY"]},
            "channel_id": str(channel.id),
            "channel": {**channel_dict(world, channel), "permissions": perms},
            "member": {**member_dict(world, member), "permissions": perms},
            "app_permissions": str(world.channel_permissions(channel.id, self.emu.bot_user_id)),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(channel.guild_id)},
            "context": 0,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        metadata = {
            "id": str(iid),
            "type": kind,
            "user": user_dict(world.users[user_id]),
            "authorizing_integration_owners": {"0": str(channel.guild_id)},
        }
        pending = Pending(iid, token, channel, user_id, None, metadata, kind=kind)
        pending.created_at = self.emu.ids.now()
        self.pending[token] = pending
        return pending, payload

    async def run_slash(
        self, user_id: int, channel_id: int, command: str, options: dict[str, Any], timeout: float
    ) -> InteractionReply:
        """Send a CHAT_INPUT interaction for ``command`` ("group sub ...") and wait for the reply."""
        channel = self.emu.channel_or_raise(channel_id)
        pending, payload = self._base(APPLICATION_COMMAND, user_id, channel)
        payload["data"] = self.options.data(channel, command, options, None)
        pending.command_type = CHAT_INPUT
        pending.metadata.update(name=command, command_type=CHAT_INPUT)
        return await self._send_and_wait(pending, payload, f"/{command}", timeout)

    async def autocomplete(
        self,
        user_id: int,
        channel_id: int,
        command: str,
        options: dict[str, Any],
        focused: str,
        timeout: float,
    ) -> list[dict[str, Any]]:
        """Send an AUTOCOMPLETE interaction while the user types option ``focused``; the choices."""
        channel = self.emu.channel_or_raise(channel_id)
        pending, payload = self._base(AUTOCOMPLETE, user_id, channel)
        payload["data"] = self.options.data(channel, command, options, focused)
        pending.command_type = CHAT_INPUT
        reply = await self._send_and_wait(pending, payload, f"autocomplete of /{command} {focused}", timeout)
        if reply.choices is None:
            raise AssertionError(f"the bot answered autocomplete of /{command} with type {reply.type}")
        return reply.choices

    async def run_message_menu(
        self, user_id: int, channel_id: int, name: str, target_id: int, timeout: float
    ) -> InteractionReply:
        """Send a MESSAGE context-menu interaction on ``target_id`` and wait for the reply."""
        channel = self.emu.channel_or_raise(channel_id)
        cmd = self.find_command(channel.guild_id, name, MESSAGE_COMMAND)
        target = self.emu.message_or_raise(channel_id, target_id)
        target_data = message_dict(self.emu.world, target, gateway=False, viewer_id=self.emu.bot_user_id)
        data: dict[str, Any] = {
            "id": cmd["id"],
            "name": name,
            "type": MESSAGE_COMMAND,
            "target_id": str(target_id),
            "resolved": {"messages": {str(target_id): target_data}},
        }
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        pending, payload = self._base(APPLICATION_COMMAND, user_id, channel)
        pending.command_type = MESSAGE_COMMAND
        pending.metadata.update(name=name, command_type=MESSAGE_COMMAND, target_message_id=str(target_id))
        payload["data"] = data
        return await self._send_and_wait(pending, payload, f"context menu {name!r}", timeout)

    async def click(self, user_id: int, msg: Message, custom_id: str, timeout: float) -> InteractionReply:
        """Send a button MESSAGE_COMPONENT interaction and wait for the reply."""
        channel = self.emu.channel_or_raise(msg.channel_id)
        pending, payload = self._base(MESSAGE_COMPONENT, user_id, channel)
        pending.component_message = msg
        pending.metadata["interacted_message_id"] = str(msg.id)
        payload["message"] = message_dict(self.emu.world, msg, gateway=False, viewer_id=self.emu.bot_user_id)
        payload["data"] = {"custom_id": custom_id, "component_type": 2}
        return await self._send_and_wait(pending, payload, f"button {custom_id!r}", timeout)

    async def _send_and_wait(
        self, pending: Pending, payload: dict[str, Any], what: str, timeout: float
    ) -> InteractionReply:
        pending.stopwatch = Stopwatch(self.watched_pid)
        await self.emu.dispatch("INTERACTION_CREATE", payload, pending.channel.guild_id)
        try:
            await asyncio.wait_for(pending.done.wait(), timeout)
        except TimeoutError:
            if pending.callback_type is None:
                self.late += 1
                self.emu.record_problem("interaction-late", f"{what}: no response at all within {timeout}s")
            state = (
                "no response at all"
                if pending.callback_type is None
                else (f"callback type {pending.callback_type} but the deferred response was never completed")
            )
            raise TimeoutError(f"the bot did not answer {what} within {timeout}s ({state})") from None
        if pending.failure is not None:
            raise ApplicationDidNotRespond(f"{what}: {pending.failure}")
        return pending.reply

    def missed_deadline(self, pending: Pending) -> bool:
        """Whether it is too late for the first response; if so the user already saw Discord's error.

        Records an ``interaction-late`` problem and ends the wait of the test driving it.
        """
        if pending.stopwatch is None:
            return False
        took = pending.stopwatch.elapsed()
        self.response_times.append(took)
        if self.deadline is None or took <= self.deadline:
            return False
        pending.failure = (
            f"first response after {took:.2f}s (wall {pending.stopwatch.wall():.2f}s), deadline "
            f"{self.deadline}s: Discord answered 10062 and the user saw 'The application did not respond'"
        )
        self.late += 1
        self.emu.record_problem("interaction-late", pending.failure)
        pending.done.set()
        return True

    def expired(self, pending: Pending) -> bool:
        """Whether the token is older than 15 minutes of the emulator's clock (then recorded)."""
        if pending.created_at is None or self.emu.ids.now() - pending.created_at <= self.token_lifetime:
            return False
        age = self.emu.ids.now() - pending.created_at
        self.emu.record_problem("interaction-token-expired", f"interaction {pending.id} used after {age}")
        return True

    # ------------------------------------------------------------------ response messages

    def response_message(
        self, pending: Pending, body: dict[str, Any], files: list[dict[str, Any]], loading: bool = False
    ) -> Message:
        """Build a message the bot sends as an interaction response or follow-up (or a "thinking" one)."""
        kind = RESPONSE_MESSAGE_TYPE.get(pending.command_type or 0, 0)
        return new_bot_message(
            self.emu,
            pending.channel,
            body,
            files,
            require_body=not loading,
            type=kind,
            webhook_id=self.emu.application_id,
            application_id=self.emu.application_id,
            interaction_metadata=pending.metadata,
        )

    async def publish(self, msg: Message, body: dict[str, Any]) -> None:
        """Store a response message (ephemeral ones privately) and dispatch it if public."""
        record_pings(self.emu, msg, body)
        if msg.flags & EPHEMERAL:
            self.ephemeral[msg.id] = msg
            return
        self.emu.world.add_message(msg)
        await self.emu.dispatch("MESSAGE_CREATE", self.emu.message_payload(msg, gateway=True), msg.guild_id)

    def complete(self, pending: Pending, msg: Message | None, followup: bool = False) -> None:
        """Mark the interaction answered and reflect ``msg`` in its reply."""
        pending.reply.type = pending.callback_type
        if msg is not None:
            pending.reply.show(msg, followup)
        pending.done.set()
        self.emu.notify()


class InteractionApi:
    """REST routes for commands, interaction callbacks and webhook follow-ups."""

    def __init__(self, emu: Hub, state: Interactions) -> None:
        self.emu = emu
        self.state = state

    def routes(self) -> list[tuple[str, str, Any]]:
        """(method, path, handler) for every route this class serves."""
        app = "/applications/{application_id}"
        hook = "/webhooks/{application_id}/{token}"
        return [
            ("GET", f"{app}/commands", self.get_global),
            ("PUT", f"{app}/commands", self.put_global),
            ("POST", f"{app}/commands", self.post_global),
            ("GET", f"{app}/guilds/{{guild_id}}/commands", self.get_guild),
            ("PUT", f"{app}/guilds/{{guild_id}}/commands", self.put_guild),
            ("POST", f"{app}/guilds/{{guild_id}}/commands", self.post_guild),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self.callback),
            ("POST", hook, self.followup),
            ("GET", f"{hook}/messages/{{message_id}}", self.get_response),
            ("PATCH", f"{hook}/messages/{{message_id}}", self.edit_response),
            ("DELETE", f"{hook}/messages/{{message_id}}", self.delete_response),
        ]

    # ------------------------------------------------------------------ commands

    def _check_app(self, call: Call) -> None:
        if call.int_param("application_id") != self.emu.application_id:
            raise DiscordError(403, 50001, "Missing Access (wrong application id)")

    def _echo(
        self, body: dict[str, Any], guild_id: int | None, previous: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """A command as Discord stores it: ids, version, and arrays for contexts/integration types."""
        kind = body.get("type", CHAT_INPUT)
        old = next((c for c in previous if c["name"] == body["name"] and c["type"] == kind), None)
        cmd: dict[str, Any] = {
            "id": old["id"] if old else str(self.emu.ids.next()),
            "application_id": str(self.emu.application_id),
            "version": str(self.emu.ids.next()),
            "type": kind,
            "name": body["name"],
            "description": body.get("description", "") if kind == CHAT_INPUT else "",
            "default_member_permissions": _permissions_string(body.get("default_member_permissions")),
            "nsfw": bool(body.get("nsfw", False)),
            "integration_types": body.get("integration_types") or [0],
            "contexts": body.get("contexts") or ([0] if guild_id else [0, 1, 2]),
            "dm_permission": guild_id is None,
        }
        for key in ("name_localizations", "description_localizations"):
            if body.get(key):
                cmd[key] = body[key]
        if body.get("options"):
            cmd["options"] = body["options"]
        if guild_id is not None:
            cmd["guild_id"] = str(guild_id)
        return cmd

    async def get_global(self, call: Call) -> tuple[int, Any]:
        self._check_app(call)
        return 200, self.state.global_commands

    async def put_global(self, call: Call) -> tuple[int, Any]:
        self._check_app(call)
        old = self.state.global_commands
        self.state.sync_payloads[None] = call.body or []
        self.state.global_commands = [self._echo(b, None, old) for b in call.body or []]
        return 200, self.state.global_commands

    async def post_global(self, call: Call) -> tuple[int, Any]:
        self._check_app(call)
        cmd = self._echo(call.body, None, self.state.global_commands)
        self.state.global_commands = [c for c in self.state.global_commands if c["id"] != cmd["id"]] + [cmd]
        return 201, cmd

    def _guild_id(self, call: Call) -> int:
        gid = call.int_param("guild_id")
        if gid not in self.emu.world.guilds:
            raise DiscordError(403, 50001, "Missing Access (unknown guild)")
        return gid

    async def get_guild(self, call: Call) -> tuple[int, Any]:
        self._check_app(call)
        return 200, self.state.guild_commands.get(self._guild_id(call), [])

    async def put_guild(self, call: Call) -> tuple[int, Any]:
        self._check_app(call)
        gid = self._guild_id(call)
        old = self.state.guild_commands.get(gid, [])
        self.state.sync_payloads[gid] = call.body or []
        self.state.guild_commands[gid] = [self._echo(b, gid, old) for b in call.body or []]
        return 200, self.state.guild_commands[gid]

    async def post_guild(self, call: Call) -> tuple[int, Any]:
        self._check_app(call)
        gid = self._guild_id(call)
        old = self.state.guild_commands.get(gid, [])
        cmd = self._echo(call.body, gid, old)
        self.state.guild_commands[gid] = [c for c in old if c["id"] != cmd["id"]] + [cmd]
        return 201, cmd

    # ------------------------------------------------------------------ callback

    def _pending(self, token: str) -> Pending:
        pending = self.state.pending.get(token)
        if pending is None:
            raise DiscordError(404, 10015, "Unknown Webhook")
        if self.state.expired(pending):
            raise DiscordError(401, 50027, "Invalid Webhook Token", problem=False)
        return pending

    async def callback(self, call: Call) -> tuple[int, Any]:
        pending = self.state.pending.get(call.params["token"])
        if pending is None or pending.id != call.int_param("interaction_id"):
            raise DiscordError(404, 10062, "Unknown interaction")
        if pending.callback_type is not None:
            # Not recorded as a problem: a bot may try again when an acknowledgement seemed lost,
            # and must then cope with this answer (if it does not, its own error fails the test).
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.", problem=False)
        if pending.failure is not None or self.state.missed_deadline(pending):
            raise DiscordError(404, 10062, "Unknown interaction", problem=False)
        body = call.body or {}
        kind = int(body["type"])
        data = body.get("data") or {}
        self._check_callback_type(pending, kind)
        pending.callback_type = kind
        pending.reply.acknowledged_at = time.perf_counter()  # the user's wait ends (load benchmark)
        resource = await self._respond(pending, kind, data, call.files)
        interaction: dict[str, Any] = {"id": str(pending.id), "type": pending.kind}
        if pending.original is not None:
            interaction.update(
                response_message_id=str(pending.original.id),
                response_message_loading=bool(pending.original.flags & LOADING),
                response_message_ephemeral=bool(pending.original.flags & EPHEMERAL),
            )
        result: dict[str, Any] = {"interaction": interaction}
        if resource is not None:
            result["resource"] = resource
        return 200, result

    @staticmethod
    def _check_callback_type(pending: Pending, kind: int) -> None:
        if kind in (DEFERRED_UPDATE, UPDATE_MESSAGE) and pending.component_message is None:
            raise DiscordError(400, 50035, "Invalid Form Body (update types need a component interaction)")
        if (kind == AUTOCOMPLETE_RESULT) != (pending.kind == AUTOCOMPLETE):
            raise DiscordError(400, 50035, "Invalid Form Body (autocomplete is answered with type 8 only)")

    async def _respond(
        self, pending: Pending, kind: int, data: dict[str, Any], files: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        """Carry out one callback type; returns the ``resource`` of the callback response.

        As documented, only CHANNEL_MESSAGE (4) and UPDATE_MESSAGE (7) return a resource; deferrals and
        modals are described by the ``interaction`` part alone.
        """
        if kind == CHANNEL_MESSAGE:
            msg = self.state.response_message(pending, data, files)
            pending.original = msg
            await self.state.publish(msg, data)
            self.state.complete(pending, msg)
        elif kind == DEFERRED_MESSAGE:
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            msg = self.state.response_message(pending, {"flags": flags, "content": ""}, [], loading=True)
            msg.flags = flags  # fill_message only lets senders set a few bits; LOADING is Discord's own
            pending.original = msg
            await self.state.publish(msg, {})
            return None
        elif kind == DEFERRED_UPDATE:
            pending.original = pending.component_message
            return None
        elif kind == UPDATE_MESSAGE:
            msg = pending.component_message
            assert msg is not None
            pending.original = msg
            check_limits(data, require_body=False)
            await self.emu.edit_bot_message(msg, data, files)
            self.state.complete(pending, msg)
        elif kind == MODAL:
            pending.reply.modal = data
            self.state.complete(pending, None)
            return None
        elif kind == AUTOCOMPLETE_RESULT:
            choices = list(data.get("choices") or [])
            if len(choices) > MAX_CHOICES:
                raise invalid_form({"choices": f"at most {MAX_CHOICES} choices, got {len(choices)}"})
            pending.reply.choices = choices
            self.state.complete(pending, None)
            return None
        else:
            raise DiscordError(400, 50035, f"Invalid Form Body (unsupported callback type {kind})")
        assert pending.original is not None
        return {"type": kind, "message": self._as_bot_sees(pending.original)}

    def _as_bot_sees(self, msg: Message) -> dict[str, Any]:
        return message_dict(self.emu.world, msg, gateway=False, viewer_id=self.emu.bot_user_id)

    # ------------------------------------------------------------------ follow-ups and @original

    async def followup(self, call: Call) -> tuple[int, Any]:
        self._check_app(call)
        pending = self._pending(call.params["token"])
        if pending.callback_type is None:
            raise DiscordError(
                404, 10015, "Unknown Webhook (follow-up before the interaction was acknowledged)"
            )
        body = call.body or {}
        original = pending.original
        if pending.callback_type == DEFERRED_MESSAGE and original is not None and original.flags & LOADING:
            # Discord turns the first follow-up after a "thinking" defer into the deferred message itself.
            check_limits({**body, "_files": call.files})
            msg = original
            msg.flags &= ~LOADING
            await self.emu.edit_bot_message(msg, {k: v for k, v in body.items() if k != "flags"}, call.files)
        else:
            msg = self.state.response_message(pending, body, call.files)
            pending.followups.append(msg)
            await self.state.publish(msg, body)
        pending.reply.followups.append(self._as_bot_sees(msg))
        if not pending.done.is_set():
            self.state.complete(pending, msg, followup=True)
        wait = call.query.get("wait", "false").lower() in ("1", "true")
        return (200, self._as_bot_sees(msg)) if wait else (204, None)

    def _target(self, call: Call) -> tuple[Pending, Message]:
        self._check_app(call)
        pending = self._pending(call.params["token"])
        mid = call.params["message_id"]
        if mid == "@original":
            if pending.original is None:
                raise not_found("Message", 10008)
            return pending, pending.original
        for msg in pending.followups:
            if msg.id == int(mid):
                return pending, msg
        if pending.original is not None and pending.original.id == int(mid):
            return pending, pending.original
        raise not_found("Message", 10008)

    async def get_response(self, call: Call) -> tuple[int, Any]:
        _, msg = self._target(call)
        return 200, self._as_bot_sees(msg)

    async def edit_response(self, call: Call) -> tuple[int, Any]:
        pending, msg = self._target(call)
        body = call.body or {}
        check_limits(body, require_body=False)
        msg.flags &= ~LOADING
        await self.emu.edit_bot_message(msg, body, call.files)
        if msg is pending.original and not pending.done.is_set():
            self.state.complete(pending, msg)
        elif msg is pending.original:
            pending.reply.show(msg)
        return 200, self._as_bot_sees(msg)

    async def delete_response(self, call: Call) -> tuple[int, Any]:
        pending, msg = self._target(call)
        if msg is pending.original:
            pending.original = None  # a follow-up now posts a new message instead of filling this one
        if msg.flags & EPHEMERAL:
            self.state.ephemeral.pop(msg.id, None)
        else:
            get_message(self.emu, msg.channel_id, msg.id)
            await self.emu.delete_message(msg.channel_id, msg.id)
        return 204, None
