"""Both autocomplete handlers end to end: /close's reasons and /unstuck config set|reset's keys."""

from __future__ import annotations

from tests.e2e.conftest import World
from tests.e2e.test_help_threads import forum_question


async def test_close_offers_the_servers_close_reasons_as_the_asker_types(world: World) -> None:
    thread_id = await forum_question(world)
    emu, alice = world.emu, world.c.alice
    everything = await emu.user_autocompletes(alice, thread_id, "close", "reason")
    some = await emu.user_autocompletes(alice, thread_id, "close", "reason", "Ta")
    assert [c["value"] for c in everything] == ["solved", "duplicate", "stale", "off-topic"]
    assert some == [{"name": "stale", "value": "stale"}]  # case-insensitive, anywhere in the reason
    await emu.user_runs_slash(
        world.c.admin,
        world.c.general,
        "unstuck config set",
        {"key": "help.close_reasons", "value": '["fixed", "wontfix"]'},
    )
    changed = await emu.user_autocompletes(alice, thread_id, "close", "reason", "fix")
    assert [c["value"] for c in changed] == ["fixed", "wontfix"]


async def test_config_set_and_reset_complete_setting_names(world: World) -> None:
    emu, admin, general = world.emu, world.c.admin, world.c.general
    help_keys = await emu.user_autocompletes(admin, general, "unstuck config set", "key", "help.")
    reset_keys = await emu.user_autocompletes(admin, general, "unstuck config reset", "key", "dormant")
    all_keys = await emu.user_autocompletes(admin, general, "unstuck config set", "key", "", {"value": "1"})
    assert help_keys and all(c["value"].startswith("help.") for c in help_keys)
    assert {"name": "help.close_reasons", "value": "help.close_reasons"} in help_keys
    assert [c["value"] for c in reset_keys] == ["help.dormant_after"]
    assert len(all_keys) == 25  # Discord shows at most 25 choices; the bot cuts the list there
    # A chosen key works in the command itself.
    reply = await emu.user_runs_slash(admin, general, "unstuck config reset", {"key": reset_keys[0]["value"]})
    assert "help.dormant_after" in reply.text()
