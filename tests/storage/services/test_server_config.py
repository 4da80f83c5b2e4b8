"""A server's configuration (bot.services.server_config) on SQLite and PostgreSQL: settings that
validate and reset, help channels and roles."""

from __future__ import annotations

import pytest

from bot.clock import FakeClock
from bot.config import GuildSettings
from bot.services.server_config import InvalidSetting, ServerConfigService
from storage.engine import Database

GUILD = 1 << 22


@pytest.fixture
def configs(db: Database, clock: FakeClock) -> ServerConfigService:
    return ServerConfigService(db, clock, GuildSettings())


async def test_server_settings_validate_and_reset(configs: ServerConfigService) -> None:
    with pytest.raises(InvalidSetting, match=r"help\.dormant_after"):
        await configs.set_value(GUILD, "help.dormant_after", "soon")
    with pytest.raises(InvalidSetting, match="not a setting"):
        await configs.set_value(GUILD, "help.nope", "1")
    config = await configs.set_value(GUILD, "points.solution", "15")
    assert config.settings.points.solution == 15
    config = await configs.reset_value(GUILD, "points.solution")
    assert config.settings.points.solution == GuildSettings().points.solution


async def test_help_channels_and_roles_round_trip(configs: ServerConfigService) -> None:
    assert await configs.add_help_channel(GUILD, 50, "forum")
    assert not await configs.add_help_channel(GUILD, 50, "forum")
    assert await configs.add_role(GUILD, 10, "helper")
    config = await configs.get(GUILD)
    assert config.help_channels == {50: "forum"}
    assert config.roles.helper_roles == {10}
    assert await configs.remove_help_channel(GUILD, 50)
    assert await configs.remove_role(GUILD, 10, "helper")
    config = await configs.get(GUILD)
    assert config.help_channels == {}
    assert config.roles.helper_roles == frozenset()
