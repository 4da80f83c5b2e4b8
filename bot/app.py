"""The Discord bot: builds the services, loads the cogs and starts the scheduler.

The app wires nothing by name: each cog hands its port to the services that need it, registers its
timed jobs with :attr:`UnstuckBot.scheduler` and its owed work after downtime with the catch-up
service, all when it loads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.domain.sharding import ShardScope
from bot.scheduler import Scheduler
from bot.services.backfill import BackfillService
from bot.services.catch_up import CatchUpService
from bot.services.cooldowns import Cooldowns
from bot.services.delivery import DeliveryWorker
from bot.services.errors import UserFacingError
from bot.services.escalation import EscalationService
from bot.services.help_threads import HelpThreadService
from bot.services.intake import Intake
from bot.services.owed import OwedActions
from bot.services.points import PointsService
from bot.services.port_errors import Unavailable
from bot.services.server_config import ServerConfigService
from bot.services.similar import SimilarService
from bot.services.solutions import SolutionService
from bot.services.stats import StatsService
from bot.services.weekly_posts import WeeklyPostService
from cogs._common import PUBLIC, defer, respond_ephemeral
from storage.engine import Database, commits_so_far, is_sqlite
from storage.errors import is_transient
from storage.migrate import prepare_schema

log = logging.getLogger(__name__)

# The order the cogs load in is the order their timed jobs and their owed work after downtime run.
EXTENSIONS = (
    "cogs.server_config",
    "cogs.help_threads",
    "cogs.solutions",
    "cogs.escalation",
    "cogs.points",
    "cogs.stats",
    "cogs.similar",
    "cogs.catch_up",
    "cogs.delivery",  # last: its tick delivers what the other cogs' jobs owed in the same tick
)
# The names discord.py gives the tasks running event, command and component handlers.
HANDLER_TASKS = (
    "discord.py: on_",
    "CommandTree-invoker",
    "discord-ui-view-dispatch",
    "discord-ui-dynamic-item",  # persistent buttons (Claim, This solved it, leaderboard pages)
    "unstuck-owed: ",  # the delivery worker carrying out what a handler owed (bot.services.delivery)
)
RATE_LIMIT_WAIT = 30.0  # seconds discord.py may wait out a 429 by itself
INTERNAL_ERROR = "Sorry, something went wrong on our side. It has been logged for the maintainers."
#: Pauses before running a command again that failed for a passing reason (the database refused
#: it, or Discord failed a call before it changed anything): about half a minute in all, like an
#: event's retries (bot.services.lanes), well within the 15 minutes Discord gives an acknowledged
#: command to answer.
COMMAND_RETRY_PAUSES = (0.1, 0.3, 1.0, 2.0, 4.0, 8.0, 15.0)
#: Where a command run keeps how many transactions its task had committed when it started.
COMMITS_AT_START = "unstuck.commits_at_start"
#: Discord failing this time: a 5xx, a lost connection, no answer in time.
DISCORD_BLIPS = (discord.DiscordServerError, Unavailable, aiohttp.ClientError, ConnectionError, TimeoutError)


@dataclass
class Services:
    """The use cases, built once in ``setup_hook`` and shared by every cog."""

    db: Database
    clock: Clock
    scope: ShardScope
    configs: ServerConfigService
    threads: HelpThreadService
    points: PointsService
    solutions: SolutionService
    similar: SimilarService
    backfill: BackfillService
    weekly: WeeklyPostService
    escalation: EscalationService
    owed: OwedActions
    delivery: DeliveryWorker
    stats: StatsService
    intake: Intake
    catch_up: CatchUpService
    cooldowns: Cooldowns


def build_services(db: Database, clock: Clock, scope: ShardScope, settings: Settings) -> Services:
    """Wire the use cases together; also used by benchmarks and tools that run without Discord."""
    configs = ServerConfigService(db, clock, settings.guild_defaults())
    owed = OwedActions(clock)
    points = PointsService(db, clock, configs)
    titles_only = not settings.intents.message_content
    similar = SimilarService(db, clock, configs, points, scope, titles_only=titles_only, owed=owed)
    threads = HelpThreadService(db, clock, configs, scope, owed, suggest=similar.suggest_for)
    solutions = SolutionService(db, clock, configs, points, owed)
    solutions.listeners.append(similar.refresh)
    threads.listeners.append(similar.refresh)
    backfill = BackfillService(db, clock, configs)
    backfill.listeners.append(similar.refresh)
    escalation = EscalationService(db, clock, configs, scope, owed)
    threads.opened.append(escalation.schedule_new_thread)
    threads.reopened.append(escalation.requeue_reopened)
    solutions.reopened.append(escalation.requeue_reopened)
    weekly = WeeklyPostService(db, clock, configs, points, scope, owed)
    intake = Intake(db, configs, scope, threads, solutions)
    return Services(
        db=db,
        clock=clock,
        scope=scope,
        configs=configs,
        threads=threads,
        points=points,
        solutions=solutions,
        similar=similar,
        backfill=backfill,
        weekly=weekly,
        escalation=escalation,
        owed=owed,
        delivery=DeliveryWorker(db, clock, configs, scope, owed),
        stats=StatsService(db, clock, configs, weekly),
        intake=intake,
        catch_up=CatchUpService(db, configs, threads, solutions, intake),
        cooldowns=Cooldowns(clock, configs),
    )


class UnstuckTree(app_commands.CommandTree["UnstuckBot"]):
    """A command tree that acknowledges every command at once, and whose errors always reach the
    user as a polite, private answer."""

    def __init__(self, client: UnstuckBot, **options: Any) -> None:
        super().__init__(client, **options)
        self._retries: dict[int, int] = {}  # interaction id -> runs that failed for a passing reason

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Acknowledge a command before running it: Discord's deadline is 3 s, and a write under load
        or a REST fetch can take longer. Private unless the command's ``extras`` mark it PUBLIC."""
        if interaction.type is not discord.InteractionType.application_command:
            return True  # autocomplete answers with its choices
        interaction.extras[COMMITS_AT_START] = commits_so_far()
        if interaction.response.is_done():
            return True  # run again after the database refused it (``on_error``): acknowledged already
        command = interaction.command
        public = bool(command is not None and command.extras.get(PUBLIC))
        try:
            await defer(interaction, ephemeral=not public)
        except discord.HTTPException:
            # Discord refused the acknowledgement (the interaction expired): running the command
            # would change things the user was told had failed.
            log.warning("could not acknowledge interaction %s; not running it", interaction.id)
            return False
        return True

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        if _may_run_again(interaction, cause) and await self._ran_again(interaction):
            return
        if isinstance(cause, UserFacingError):
            text = str(cause)
        elif isinstance(cause, app_commands.CheckFailure | app_commands.TransformerError):
            text = str(cause) or "You can't use this command here."
        else:
            log.error(
                "command %s failed",
                interaction.command and interaction.command.qualified_name,
                exc_info=cause,
            )
            interaction.client.unexpected_errors.append(cause)
            text = INTERNAL_ERROR
        await respond_ephemeral(interaction, text)

    async def _ran_again(self, interaction: discord.Interaction) -> bool:
        """Run a command again that failed for a passing reason, after a pause; False once the
        pauses are used up.

        What failed was not committed (see :func:`_may_run_again`), so running it again is safe,
        and it was acknowledged, so the user, who has 15 minutes for the answer, waits out a blip
        instead of seeing an error. discord.py's own dispatch (``_call``) runs the checks and
        options again too.
        """
        attempt = self._retries.get(interaction.id, 0)
        if attempt >= len(COMMAND_RETRY_PAUSES):
            self._retries.pop(interaction.id, None)
            return False
        self._retries[interaction.id] = attempt + 1
        log.warning("a command failed for a passing reason (attempt %d); running it again", attempt + 1)
        await asyncio.sleep(COMMAND_RETRY_PAUSES[attempt])
        try:
            await self._call(interaction)
        finally:
            self._retries.pop(interaction.id, None)
        return True


def _may_run_again(interaction: discord.Interaction, cause: BaseException) -> bool:
    """Whether a failed command may simply run again: the database refused its transaction for a
    passing reason (so it was not committed), or Discord failed a call (a 5xx on fetching the
    answer `/solved` names, say) before the command committed anything."""
    if is_transient(cause):
        return True
    changed = commits_so_far() > interaction.extras.get(COMMITS_AT_START, 0)
    return isinstance(cause, DISCORD_BLIPS) and not changed


def intents_for(settings: Settings) -> discord.Intents:
    """Only what the bot needs; message content and members are privileged and configurable."""
    intents = discord.Intents.default()
    intents.message_content = settings.intents.message_content
    intents.members = settings.intents.members
    intents.presences = False
    intents.typing = False
    return intents


class UnstuckBot(commands.AutoShardedBot):
    """The bot. ``AutoShardedBot`` even for one shard, so scaling out is only a setting."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        start_scheduler: bool = True,
        sync_commands: bool = True,
        guild_ready_timeout: float = 2.0,
    ) -> None:
        sharding = settings.sharding
        shard_count = sharding.shard_count if sharding.shard_count else (None if sharding.auto else 1)
        super().__init__(
            # Slash commands only: no prefix ever matches, so "@Unstuck help" is not a failed command.
            command_prefix=lambda bot, message: [],
            help_command=None,
            intents=intents_for(settings),
            # Default: ping nobody. A message that must ping passes explicit AllowedMentions.
            allowed_mentions=discord.AllowedMentions.none(),
            shard_count=shard_count,
            shard_ids=sharding.shard_ids,
            tree_cls=UnstuckTree,
            guild_ready_timeout=guild_ready_timeout,
            max_messages=5000,
            # A 429 longer than this raises instead of sleeping inside a handler: the delivery
            # worker reschedules that action and goes on with the others (30 s is discord.py's least).
            max_ratelimit_timeout=RATE_LIMIT_WAIT,
        )
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.start_scheduler = start_scheduler
        self.sync_commands = sync_commands
        self.scope = ShardScope(sharding.shard_ids, shard_count)
        self.unexpected_errors: list[BaseException] = []
        self.reconciled_guilds: set[int] = set()
        self._reconciled = asyncio.Event()
        self._closing = False
        self.scheduler = Scheduler()  # the cogs register their timed jobs when they load
        self._services: Services | None = None

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("services are created in setup_hook")
        return self._services

    async def setup_hook(self) -> None:
        db = Database(self.settings.database.url, echo=self.settings.database.echo)
        await prepare_schema(db, auto_upgrade=is_sqlite(db.url))
        self._services = build_services(db, self.clock, self.scope, self.settings)
        await self._services.similar.build()  # once: listeners keep it current from here on
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if self.sync_commands:
            await self.tree.sync()
        if self.start_scheduler:
            self.scheduler.start(self.is_ready)
        if not self.settings.intents.message_content:
            log.warning(
                "The message content intent is off: Unstuck matches similar threads on titles only, "
                "which finds far fewer of them, and cannot read questions or answers. "
                "Turn it on in the Developer Portal and in config.toml."
            )

    async def run_sweeps(self) -> None:
        """One tick of every timed job; the scheduler ticks them, tests call this after moving the clock."""
        await self.scheduler.run_all()

    async def on_error(self, event_method: str, /, *args: object, **kwargs: object) -> None:
        """Log an event handler's crash; tests read ``unexpected_errors`` and fail on any."""
        log.exception("unhandled error in %s", event_method)
        error = sys.exc_info()[1]
        if error is not None:
            self.unexpected_errors.append(error)

    async def close(self) -> None:
        self.scheduler.shutdown()
        self._closing = True
        if self._services is not None:
            self._services.intake.lanes.close()  # events still retried are left to the next start-up
        await self._drain_handlers()
        if self._services is not None:
            await self._services.delivery.stop()  # what is still owed stays owed for the next start
        await super().close()
        if self._services is not None:
            await self._services.db.dispose()

    def mark_reconciled(self, guild_id: int) -> None:
        self.reconciled_guilds.add(guild_id)
        self._reconciled.set()

    def dispatch(self, event_name: str, /, *args: object, **kwargs: object) -> None:
        # Once closing, start no new handler: it would find the HTTP session closed under it.
        # Whatever arrives now is caught up from history by the next start-up.
        if not self._closing:
            super().dispatch(event_name, *args, **kwargs)

    async def _drain_handlers(self, timeout: float = 5.0) -> None:
        """Let event handlers already running finish before the HTTP session closes under them.

        discord.py names the tasks it runs handlers in (HANDLER_TASKS); anything unfinished after the
        timeout is left to the start-up catch-up of the next run.
        """
        current = asyncio.current_task()
        running = [
            t
            for t in asyncio.all_tasks()
            if t is not current and not t.done() and t.get_name().startswith(HANDLER_TASKS)
        ]
        if running:
            await asyncio.wait(running, timeout=timeout)

    async def wait_until_reconciled(self, guild_ids: set[int]) -> None:
        """Wait until start-up caught up with every guild in ``guild_ids`` (tests and the demo)."""
        while not guild_ids <= self.reconciled_guilds:
            self._reconciled.clear()
            await self._reconciled.wait()


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def run_until_stopped(bot: UnstuckBot, token: str) -> None:
    """Run the bot until Discord ends the session or SIGINT / SIGTERM asks it to stop.

    Ctrl-C, ``docker stop`` and systemd all stop the bot the same way: no new handler starts, the
    running ones finish, and storage closes, so nothing is left half-written.  A second signal
    while stopping is not caught any more, so Ctrl-C twice still ends a stuck shutdown.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def on_signal(received: signal.Signals) -> None:
        log.info("Received %s: letting running handlers finish, then stopping.", received.name)
        stop.set()
        _forget_signals(loop)

    async def announce() -> None:
        bot.remove_listener(announce, "on_ready")  # once: on_ready repeats after a reconnect
        where = f"in {len(bot.guilds)} server(s)" if bot.guilds else "in no server yet (see `unstuck invite`)"
        log.info("Unstuck is running as %s %s. Press Ctrl-C to stop.", bot.user, where)

    bot.add_listener(announce, "on_ready")
    with contextlib.suppress(NotImplementedError):  # Windows: Ctrl-C raises KeyboardInterrupt
        for stop_signal in STOP_SIGNALS:
            loop.add_signal_handler(stop_signal, on_signal, stop_signal)
    running = asyncio.create_task(bot.start(token), name="unstuck-run")
    stopping = asyncio.create_task(stop.wait(), name="unstuck-stop-signal")
    try:
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set() and not running.done() and not bot.is_ready():
            running.cancel()  # stopped during start-up: a migration in progress still ends in its thread
            await asyncio.gather(running, return_exceptions=True)
    finally:
        stopping.cancel()
        _forget_signals(loop)
        await bot.close()
    if stop.is_set():
        await asyncio.gather(running, return_exceptions=True)
        log.info("Unstuck stopped cleanly.")
    else:
        await running  # start-up errors (a bad token, an unreachable database) reach the caller


def _forget_signals(loop: asyncio.AbstractEventLoop) -> None:
    """Give SIGINT and SIGTERM back their default behaviour."""
    with contextlib.suppress(NotImplementedError):
        for stop_signal in STOP_SIGNALS:
            loop.remove_signal_handler(stop_signal)
