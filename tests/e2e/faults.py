"""Discord failing on purpose: a test-only middleware in front of the emulator's REST API.

Until the emulator has a fault API of its own, tests that need Discord to answer 5xx or 429 put
this in front of it (through the ``emu`` fixture of their module): each :class:`Fault` answers the
next matching requests itself instead of the emulator.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

import emulator.server
from bot.clock import FakeClock
from emulator import Emulator

RESET = 0  # the "status" of a fault that acts, then drops the connection


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    times: int
    hits: int = 0


@dataclass
class Faults:
    """The faults waiting for requests, and the requests they answered (method, path, status)."""

    waiting: list[Fault] = field(default_factory=list)
    answered: list[tuple[str, str, int]] = field(default_factory=list)

    def server_error(self, method: str, path: str, times: int = 1, status: int = 503) -> Fault:
        """``times`` 5xx answers (503 by default: discord.py does not retry it by itself)."""
        body = {"message": "Service Unavailable", "code": 0}
        return self._add(method, path, status, body, {}, times)

    def rate_limit(self, method: str, path: str, retry_after: float, times: int = 1) -> Fault:
        """A 429 as Discord sends it, with the body and headers discord.py reads."""
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(int(retry_after)),
            "X-RateLimit-Scope": "shared",
        }
        return self._add(method, path, 429, body, headers, times)

    def reset_after_handling(self, method: str, path: str, times: int = 1) -> Fault:
        """Discord acts on the request, then the connection breaks before the answer arrives."""
        return self._add(method, path, RESET, {}, {}, times)

    def _add(
        self, method: str, path: str, status: int, body: dict[str, Any], headers: dict[str, str], times: int
    ) -> Fault:
        fault = Fault(method, re.compile(path), status, body, headers, times)
        self.waiting.append(fault)
        return fault

    def middleware(self) -> Callable[..., Awaitable[web.StreamResponse]]:
        @web.middleware
        async def answer(request: web.Request, handler: Any) -> web.StreamResponse:
            for fault in self.waiting:
                matches = request.method == fault.method and fault.path.fullmatch(request.path)
                if matches and fault.hits < fault.times:
                    fault.hits += 1
                    self.answered.append((request.method, request.path, fault.status))
                    if fault.status == RESET:
                        await handler(request)
                        assert request.transport is not None
                        request.transport.abort()  # the client sees the connection drop
                        return web.Response(status=204)
                    return web.Response(
                        status=fault.status,
                        body=json.dumps(fault.body).encode(),
                        content_type="application/json",
                        headers=fault.headers,
                    )
            return await handler(request)

        return answer


@pytest.fixture(name="faults")
def faults_fixture() -> Faults:
    return Faults()


@pytest.fixture(name="emu")
async def emu_with_faults(
    clock: FakeClock, faults: Faults, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Emulator]:
    """The e2e emulator, with :class:`Faults` in front of its REST API."""
    build = emulator.server.build_app

    def build_with_faults(*args: Any) -> web.Application:
        app = build(*args)
        app.middlewares.insert(0, faults.middleware())
        return app

    monkeypatch.setattr(emulator.server, "build_app", build_with_faults)
    emulator_ = Emulator(clock=clock.now)
    await emulator_.start()
    emulator_.configure_discord_py()
    yield emulator_
    await emulator_.stop()
