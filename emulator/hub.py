"""What the emulator's parts (REST routes, gateway, interactions) use of the emulator they serve.

The driver's :class:`emulator.driver.Emulator` builds those parts and hands itself to them. They type
it with this protocol instead of importing the driver, so the driver depends on its parts and never
the other way round (no import cycle).
"""

from __future__ import annotations

from typing import Any, Protocol

from emulator.faults import RestFaults
from emulator.permissions import Perm
from emulator.snowflake import SnowflakeFactory
from emulator.state import Channel, Message, World


class Hub(Protocol):
    """The shared state and the operations every part of the emulator may use."""

    world: World
    ids: SnowflakeFactory
    application_id: int
    bot_user_id: int
    bot_intents: int | None  # from the last IDENTIFY
    validating: bool
    pings: list[dict[str, Any]]
    requests: list[tuple[str, str, Any]]
    last_request_at: float
    faults: RestFaults

    @property
    def base_url(self) -> str: ...

    @property
    def gateway_url(self) -> str: ...

    # ---- bookkeeping and events

    def record_problem(self, kind: str, detail: str) -> None: ...

    def notify(self) -> None: ...

    async def dispatch(self, event: str, data: dict[str, Any], guild_id: int | None) -> None: ...

    # ---- payloads as the bot sees them

    def bot_user_payload(self) -> dict[str, Any]: ...

    def guild_create_payload(self, guild_id: int, newly_joined: bool = False) -> dict[str, Any]: ...

    def member_payload(self, guild_id: int, user_id: int) -> dict[str, Any]: ...

    def message_payload(self, msg: Message, gateway: bool = False) -> dict[str, Any]: ...

    def content_visible_without_intent(self, data: dict[str, Any]) -> bool: ...

    def thread_create_payload(self, thread: Channel, newly_created: bool) -> dict[str, Any]: ...

    # ---- changing the world

    def channel_or_raise(self, channel_id: int) -> Channel: ...

    def message_or_raise(self, channel_id: int, message_id: int) -> Message: ...

    def create_thread_record(
        self, parent: Channel, name: str, owner_id: int, tags: list[int], thread_id: int | None = None
    ) -> Channel: ...

    async def delete_message(self, channel_id: int, message_id: int) -> None: ...

    async def add_reaction(self, msg: Message, user_id: int, emoji: str) -> None: ...

    async def remove_reaction(self, msg: Message, user_id: int, emoji: str) -> None: ...

    async def remove_channel(self, channel: Channel) -> None: ...

    def bot_can(self, guild_id: int, perm: Perm, channel_id: int | None = None) -> bool: ...

    async def edit_bot_message(
        self, msg: Message, body: dict[str, Any], files: list[dict[str, Any]]
    ) -> None: ...

    def new_token(self) -> str: ...
