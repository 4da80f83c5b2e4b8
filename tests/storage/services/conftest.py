"""Fixtures of the service tests."""

from __future__ import annotations

import pytest

from bot.clock import FakeClock
from storage.engine import Database
from tests.storage.services.answers import Svc, answering_server
from tests.storage.services.escalation_world import World


@pytest.fixture
async def world(db: Database, clock: FakeClock) -> World:
    """A server set up for escalation (roles, escalation channel), on the test database."""
    w = World(db, clock)
    await w.set_up()
    return w


@pytest.fixture
async def svc(db: Database, clock: FakeClock) -> Svc:
    """A server with a staff role where questions are asked, answered and marked solved."""
    return await answering_server(db, clock)
