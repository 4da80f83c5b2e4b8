"""The demo's community: a small Python server with askers, a helper, a maintainer and an admin."""

from __future__ import annotations

from dataclasses import dataclass

from emulator import Emulator

MANAGE_THREADS = 1 << 34
CAST = ("ada", "alice", "bob", "mallory", "helen", "sam")  # ada owns the server; helen helps; sam maintains


@dataclass(frozen=True)
class Community:
    """The ids of everyone and everything in the demo server."""

    guild: int
    helper_role: int
    staff_role: int
    forum: int
    text: int
    general: int
    escalations: int
    ada: int
    alice: int
    bob: int
    mallory: int
    helen: int
    sam: int

    @property
    def users(self) -> dict[int, str]:
        return {getattr(self, name): name for name in CAST}

    @property
    def roles(self) -> dict[int, str]:
        return {self.helper_role: "Helpers", self.staff_role: "Maintainers"}


def build_community(emu: Emulator) -> Community:
    """Create the server "Python Learners": its people, roles and channels (Unstuck not set up yet)."""
    people = {name: emu.create_user(name) for name in CAST}
    guild = emu.create_guild("Python Learners", owner_id=people["ada"])
    helper = emu.create_role(guild, "Helpers")
    staff = emu.create_role(guild, "Maintainers", permissions=MANAGE_THREADS)
    roles = {"helen": [helper], "sam": [staff]}
    for name, user_id in people.items():
        if name != "ada":  # the owner is a member already
            emu.add_member(guild, user_id, roles=roles.get(name, []))
    return Community(
        guild=guild,
        helper_role=helper,
        staff_role=staff,
        forum=emu.create_forum_channel(guild, "help-forum", tags=["Solved", "Unanswered", "pandas"]),
        text=emu.create_text_channel(guild, "help"),
        general=emu.create_text_channel(guild, "general"),
        escalations=emu.create_text_channel(guild, "escalations"),
        **people,
    )
