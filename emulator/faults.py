"""Discord on a bad day: faults that tests and benchmarks inject into the emulator's REST API.

Real Discord answers 429 with ``retry_after``, fails with 5xx, drops connections and sometimes takes
seconds to answer. ``RestFaults`` (``emu.faults``) makes the emulator do the same, deterministically:

* **Rules** a test adds: ``rate_limit`` (429), ``fail`` (500/502/503/504), ``reset`` (the connection
  closes without an answer) and ``hang`` (the answer comes late). Each is limited to one route, given
  as the method and the template the emulator serves (``"PATCH /channels/{channel_id}"``), or to every
  route when ``route`` is None, optionally to one channel id; and it lasts for the next ``times``
  matching calls, a ``rate`` of them (drawn from a seeded RNG), a ``window`` of emulator time, or
  until it is cleared. Conditions combine: ``times=3, rate=0.5`` fails half of the calls, three at most.
* **Discord's real limit** where it bites a help bot: name and tag edits of a channel (``PATCH
  /channels/{id}`` carrying ``name`` or ``applied_tags``) are limited to 2 per 10 minutes per channel.
  The third answers 429 with the seconds until the window frees, on the emulator's clock. On by
  default; ``real_rate_limits = False`` switches it off.

Everything injected is counted in ``injected`` by kind, and listed in ``log``, for benchmarks.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

RATE_LIMIT = "rate_limit"
SERVER_ERROR = "server_error"
RESET = "reset"
HANG = "hang"
REAL_RATE_LIMIT = "real_rate_limit"

CHANNEL_EDIT = "PATCH /channels/{channel_id}"
NAME_EDITS_PER_WINDOW = 2
NAME_EDIT_WINDOW = timedelta(minutes=10)
_LIMITED_KEYS = ("name", "applied_tags")
SERVER_ERRORS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True)
class Fault:
    """What happens to one request."""

    kind: str
    status: int = 0
    retry_after: float = 0.0
    is_global: bool = False
    scope: str = "user"
    limit: int = 1
    seconds: float | None = 0.0  # how long a hang lasts; None: until released
    # The request takes effect before the failure: Discord did it, but the answer was lost.
    applied: bool = False


@dataclass
class Rule:
    """A fault and when it applies; ``hits`` counts the calls it changed."""

    fault: Fault
    route: str | None
    channel_id: int | None = None
    times: int | None = None
    rate: float | None = None
    until: datetime | None = None
    hits: int = 0
    statuses: tuple[int, ...] = ()  # a 5xx rule with several statuses draws one per call

    def exhausted(self, now: datetime) -> bool:
        """Used up (``times``) or past its window."""
        return (self.times is not None and self.hits >= self.times) or (
            self.until is not None and now >= self.until
        )

    def matches(self, route: str, channel_id: int | None) -> bool:
        """Whether a call to ``route`` (``"METHOD /template"``) in ``channel_id`` is in scope."""
        if self.route is not None and self.route != route:
            return False
        return self.channel_id is None or self.channel_id == channel_id


@dataclass
class RestFaults:
    """The fault API of the emulator's REST side (``emu.faults``)."""

    clock: Callable[[], datetime]
    seed_value: int = 0
    # On, as on real Discord: every test and the demo meet the limit (a forum post gets Unanswered,
    # loses it and gets Solved within minutes: the third edit waits for the window).
    real_rate_limits: bool = True
    injected: Counter[str] = field(default_factory=Counter)
    log: list[tuple[str, str, int | None]] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    #: Every name or tag edit carried out under the real limit: (channel id, when), for tests.
    limited_edits: list[tuple[int, datetime]] = field(default_factory=list)
    _edits: dict[int, list[datetime]] = field(default_factory=lambda: defaultdict(list))
    _released: asyncio.Event | None = None

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed_value)

    def seed(self, value: int) -> None:
        """Restart the RNG that decides ``rate`` rules, for a reproducible run."""
        self.seed_value = value
        self._rng = random.Random(value)

    # ------------------------------------------------------------------ adding rules

    def rate_limit(
        self,
        route: str | None = None,
        *,
        retry_after: float = 0.05,
        is_global: bool = False,
        scope: str | None = None,
        **when: Any,
    ) -> Rule:
        """429 with ``retry_after`` and bucket headers; ``is_global`` is Discord's global limit."""
        scope = scope or ("global" if is_global else "user")
        return self._add(Fault(RATE_LIMIT, 429, retry_after, is_global, scope), route, **when)

    def fail(
        self,
        route: str | None = None,
        *,
        status: int | Sequence[int] = 503,
        applied: bool = False,
        **when: Any,
    ) -> Rule:
        """A 5xx answer (one status, or one drawn per call from several); with ``applied`` the
        request takes effect first."""
        statuses = (status,) if isinstance(status, int) else tuple(status)
        if not statuses or any(code not in SERVER_ERRORS for code in statuses):
            raise ValueError(f"status must be among {sorted(SERVER_ERRORS)}")
        rule = self._add(Fault(SERVER_ERROR, statuses[0], applied=applied), route, **when)
        rule.statuses = statuses
        return rule

    def reset(self, route: str | None = None, *, applied: bool = False, **when: Any) -> Rule:
        """The connection closes without an answer; with ``applied`` the request takes effect first."""
        return self._add(Fault(RESET, applied=applied), route, **when)

    def hang(self, route: str | None = None, *, seconds: float | None, **when: Any) -> Rule:
        """The answer comes ``seconds`` (real time) late, or only once released when None;
        ``clear()``, ``release()`` or the emulator's shutdown release it early."""
        return self._add(Fault(HANG, seconds=seconds), route, **when)

    def _add(
        self,
        fault: Fault,
        route: str | None,
        *,
        channel_id: int | None = None,
        times: int | None = None,
        rate: float | None = None,
        window: timedelta | None = None,
    ) -> Rule:
        if route is not None and " /" not in route:
            raise ValueError(f"route must look like 'PATCH /channels/{{channel_id}}', not {route!r}")
        until = self.clock() + window if window is not None else None
        rule = Rule(fault, route, channel_id, times, rate, until)
        self.rules.append(rule)
        return rule

    def remove(self, rule: Rule) -> None:
        """Stop one rule."""
        if rule in self.rules:
            self.rules.remove(rule)

    def clear(self) -> None:
        """Stop every rule and release hanging requests (the counts stay)."""
        self.rules.clear()
        self.release()

    # ------------------------------------------------------------------ used by the REST middleware

    def pick(self, method: str, template: str, channel_id: int | None, body: Any) -> Fault | None:
        """The fault for this call, if any, and count it; the first rule that fires wins."""
        route = f"{method} {template}"
        now = self.clock()
        self.rules = [r for r in self.rules if not r.exhausted(now)]
        fault = self._from_rules(route, channel_id) or self._real_limit(route, channel_id, body, now)
        if fault is not None:
            self.injected[fault.kind] += 1
            self.log.append((fault.kind, route, channel_id))
        return fault

    def _from_rules(self, route: str, channel_id: int | None) -> Fault | None:
        for rule in self.rules:
            if not rule.matches(route, channel_id):
                continue
            if rule.rate is not None and self._rng.random() >= rule.rate:
                continue
            rule.hits += 1
            if len(rule.statuses) > 1:
                return replace(rule.fault, status=self._rng.choice(rule.statuses))
            return rule.fault
        return None

    def _real_limit(self, route: str, channel_id: int | None, body: Any, now: datetime) -> Fault | None:
        if not self._is_limited_edit(route, channel_id, body):
            return None
        assert channel_id is not None
        recent = [t for t in self._edits[channel_id] if now - t < NAME_EDIT_WINDOW]
        self._edits[channel_id] = recent
        if len(recent) < NAME_EDITS_PER_WINDOW:
            return None
        wait = (recent[0] + NAME_EDIT_WINDOW - now).total_seconds()
        return Fault(REAL_RATE_LIMIT, 429, round(wait, 3), scope="shared", limit=NAME_EDITS_PER_WINDOW)

    def _is_limited_edit(self, route: str, channel_id: int | None, body: Any) -> bool:
        return (
            self.real_rate_limits
            and route == CHANNEL_EDIT
            and channel_id is not None
            and isinstance(body, dict)
            and any(key in body for key in _LIMITED_KEYS)
        )

    def applied(self, method: str, template: str, channel_id: int | None, body: Any) -> None:
        """A call succeeded: a name or tag edit now counts toward the channel's window."""
        if self._is_limited_edit(f"{method} {template}", channel_id, body):
            assert channel_id is not None
            self._edits[channel_id].append(self.clock())
            self.limited_edits.append((channel_id, self.clock()))

    async def wait(self, seconds: float | None) -> None:
        """Hang for ``seconds`` (None: until released) unless released earlier."""
        if self._released is None or self._released.is_set():
            self._released = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._released.wait(), timeout=seconds)

    def release(self) -> None:
        """Let every hanging request answer now."""
        if self._released is not None:
            self._released.set()

    def headers(self, fault: Fault, route: str) -> dict[str, str]:
        """A 429's headers as discord.py reads them (``Via`` marks it as Discord's, not Cloudflare's)."""
        reset = self.clock().timestamp() + fault.retry_after
        headers = {
            "X-RateLimit-Limit": str(fault.limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{reset:.3f}",
            "X-RateLimit-Reset-After": f"{fault.retry_after:.3f}",
            "X-RateLimit-Bucket": hashlib.sha1(route.encode()).hexdigest()[:16],
            "X-RateLimit-Scope": fault.scope,
            "Retry-After": str(max(1, round(fault.retry_after))),
            "Via": "1.1 google",
        }
        if fault.is_global:
            headers["X-RateLimit-Global"] = "true"
        return headers

    @staticmethod
    def body(fault: Fault) -> dict[str, Any]:
        """The JSON body of a fault's answer."""
        if fault.status == 429:
            return {
                "message": "You are being rate limited.",
                "retry_after": fault.retry_after,
                "global": fault.is_global,
                "code": 0,
            }
        return {"message": f"{fault.status}: {SERVER_ERRORS[fault.status]}", "code": 0}
