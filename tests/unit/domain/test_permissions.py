"""Who may do what (bot.domain.permissions): moderate a thread, mark a solution, configure the server."""

import pytest

from bot.domain.permissions import (
    Actor,
    ServerRoles,
    can_configure,
    can_mark_solution,
    can_moderate_thread,
    is_helper,
    is_staff,
)

ROLES = ServerRoles(helper_roles=frozenset({10}), staff_roles=frozenset({20}))
ASKER = 1

ACTORS = {
    "asker": Actor(user_id=ASKER),
    "member": Actor(user_id=2),
    "helper": Actor(user_id=3, role_ids=frozenset({10})),
    "staff": Actor(user_id=4, role_ids=frozenset({20})),
    "manage_threads": Actor(user_id=5, manage_threads=True),
    "manage_guild": Actor(user_id=6, manage_guild=True),
    "bot": Actor(user_id=7, is_bot=True, manage_guild=True, manage_threads=True),
}


@pytest.mark.parametrize(
    ("actor", "moderate", "mark", "configure"),
    [
        ("asker", True, True, False),
        ("member", False, False, False),
        ("helper", False, True, False),
        ("staff", True, True, False),
        ("manage_threads", True, True, False),
        ("manage_guild", True, True, True),
        ("bot", False, False, False),
    ],
)
def test_permission_rules(actor: str, moderate: bool, mark: bool, configure: bool) -> None:
    who = ACTORS[actor]
    assert can_moderate_thread(who, ASKER, ROLES) is moderate
    assert can_mark_solution(who, ASKER, ROLES) is mark
    assert can_configure(who) is configure


def test_staff_are_helpers_but_helpers_are_not_staff() -> None:
    assert is_helper(ACTORS["staff"], ROLES)
    assert not is_staff(ACTORS["helper"], ROLES)
