"""`/unstuck config` end to end."""

from __future__ import annotations

from tests.e2e.conftest import World


async def test_config_show_lists_the_set_up(world: World) -> None:
    reply = await world.emu.user_runs_slash(world.c.admin, world.c.general, "unstuck config show")
    assert reply.ephemeral
    text = reply.text()
    assert f"<#{world.c.forum}> (forum)" in text
    assert f"<#{world.c.text}> (text)" in text
    assert f"<@&{world.c.helper_role}>" in text
    assert "dormant_after" in text


async def test_members_without_manage_server_are_refused_politely(world: World) -> None:
    for command, options in [
        ("unstuck config show", {}),
        ("unstuck config add-help-channel", {"channel": world.c.general}),
        ("unstuck config set", {"key": "points.solution", "value": "100"}),
    ]:
        reply = await world.emu.user_runs_slash(world.c.mallory, world.c.general, command, options=options)
        assert reply.ephemeral
        assert "Manage Server" in reply.text()
    config = await world.bot.services.configs.get(world.c.guild)
    assert world.c.general not in config.help_channels
    assert config.settings.points.solution == 10


async def test_settings_are_validated_and_can_be_reset(world: World) -> None:
    bad = await world.emu.user_runs_slash(
        world.c.admin,
        world.c.general,
        "unstuck config set",
        options={"key": "help.dormant_after", "value": "soon"},
    )
    assert bad.ephemeral
    assert "help.dormant_after" in bad.text()
    good = await world.emu.user_runs_slash(
        world.c.admin,
        world.c.general,
        "unstuck config set",
        options={"key": "help.dormant_after", "value": "48h"},
    )
    assert "2d" in good.text()
    config = await world.bot.services.configs.get(world.c.guild)
    assert config.settings.help.dormant_after.total_seconds() == 48 * 3600
    reset = await world.emu.user_runs_slash(
        world.c.admin, world.c.general, "unstuck config reset", options={"key": "help.dormant_after"}
    )
    assert "3d" in reset.text()


async def test_removing_a_help_channel_stops_tracking(world: World) -> None:
    reply = await world.emu.user_runs_slash(
        world.c.admin,
        world.c.general,
        "unstuck config remove-help-channel",
        options={"channel": world.c.text},
    )
    assert "no longer a help channel" in reply.text()
    await world.emu.user_says(world.c.alice, world.c.text, "A question nobody tracks")
    await world.emu.settle()
    assert world.emu.threads(world.c.text) == []
