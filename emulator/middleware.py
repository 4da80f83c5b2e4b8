"""What every REST request goes through before and after its handler.

In order: parse and log the call; inject a fault if ``emu.faults`` has one for it (429, 5xx, a reset
connection, a late answer); record a body that breaks the schema; run the handler.
A Discord-style error from a handler is answered as Discord would; any other exception is an emulator
bug, recorded as a problem so the test fails, and answered 500. Responses are validated too.
"""

from __future__ import annotations

import json
import time
import traceback
from typing import TYPE_CHECKING, Any

from aiohttp import web

from emulator import validation
from emulator.faults import HANG, RESET, Fault
from emulator.rest import Call, DiscordError

if TYPE_CHECKING:
    from emulator.hub import Hub

PREFIX = "/api/v10"
CALL_KEY = web.RequestKey("call", Call)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer with exactly ``application/json``: discord.py compares the header verbatim."""
    if status == 204:
        return web.Response(status=204, headers=headers)
    data = json.dumps(body).encode()
    return web.Response(status=status, body=data, content_type="application/json", headers=headers)


def middleware(emu: Hub) -> Any:
    """The aiohttp middleware for ``emu``'s REST API."""

    @web.middleware
    async def handle(request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith(PREFIX):
            return await handler(request)
        call = await _parse(request)
        request[CALL_KEY] = call
        emu.requests.append((call.method, call.path, call.body))
        emu.last_request_at = time.monotonic()
        try:
            response = await _answer(emu, request, call, handler)
        finally:
            emu.last_request_at = time.monotonic()
            emu.notify()
        return response

    return handle


async def _answer(emu: Hub, request: web.Request, call: Call, handler: Any) -> web.StreamResponse:
    template = _template(request)
    channel_id = _channel_id(request)
    fault = emu.faults.pick(call.method, template, channel_id, call.body) if template else None
    if fault is not None and fault.kind == HANG:
        await emu.faults.wait(fault.seconds)
        fault = None
    if fault is not None and not fault.applied:
        return _faulted(emu, request, fault, f"{call.method} {template}")
    response = await _handled(emu, request, call, handler)
    if template and 200 <= response.status < 300:
        emu.faults.applied(call.method, template, channel_id, call.body)
    if fault is not None:  # applied: Discord did it, but the answer is lost
        return _faulted(emu, request, fault, f"{call.method} {template}")
    return response


def _faulted(emu: Hub, request: web.Request, fault: Fault, route: str) -> web.StreamResponse:
    if fault.kind == RESET:
        if request.transport is not None:
            request.transport.close()
        # Nothing reaches the client; aiohttp drops this answer on the closed transport.
        return web.Response(status=204)
    headers = emu.faults.headers(fault, route) if fault.status == 429 else None
    return json_response(fault.status, emu.faults.body(fault), headers)


async def _handled(emu: Hub, request: web.Request, call: Call, handler: Any) -> web.StreamResponse:
    known = validation.match_operation(call.method, call.path) is not None if emu.validating else True
    try:
        if emu.validating and known:
            _check_request(emu, call)
        response = await handler(request)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        emu.record_problem("unknown-route", f"{call.method} {call.path}")
        return json_response(404, {"message": "404: Not Found", "code": 0})
    except DiscordError as exc:
        if exc.problem:
            emu.record_problem(
                f"http-{exc.status}", f"{call.method} {call.path}: {exc.message} {exc.errors or ''}"
            )
        response = json_response(exc.status, exc.body())
    except Exception as exc:  # an emulator bug must fail the test, never pass as a silent 500
        where = traceback.format_exception(exc)[-2:]
        emu.record_problem("emulator-error", f"{call.method} {call.path}: {exc!r} {''.join(where).strip()}")
        return json_response(500, {"message": "500: Internal Server Error", "code": 0})
    if emu.validating and known and isinstance(response, web.Response):
        _check_response(emu, call, response)
    return response


def _template(request: web.Request) -> str | None:
    """The route template the request matched (``/channels/{channel_id}``), None for an unknown route."""
    resource = request.match_info.route.resource
    if resource is None:  # aiohttp's own 404/405 route
        return None
    return resource.canonical[len(PREFIX) :]


def _channel_id(request: web.Request) -> int | None:
    raw = request.match_info.get("channel_id")
    return int(raw) if raw is not None and raw.isdigit() else None


async def _parse(request: web.Request) -> Call:
    """Method, path, query and JSON body (or multipart ``payload_json`` plus files)."""
    body: Any = None
    files: list[dict[str, Any]] = []
    if request.content_type == "multipart/form-data":
        form = await request.post()
        for name, value in form.items():
            if name == "payload_json":
                body = json.loads(value if isinstance(value, str) else value.file.read())
            elif isinstance(value, web.FileField):
                files.append(
                    {
                        "field": name,
                        "filename": value.filename,
                        "data": value.file.read(),
                        "content_type": value.content_type,
                    }
                )
    elif request.can_read_body:
        raw = await request.read()
        body = json.loads(raw) if raw else None
    path = request.path[len(PREFIX) :]
    return Call(request.method, path, {}, dict(request.query), body, files)


def _check_request(emu: Hub, call: Call) -> None:
    """Record what the schema refuses; the handler then answers as Discord would (often 400)."""
    # The spec's multipart schema is the JSON schema plus files[n]; validate the payload_json part.
    for problem in validation.validate_request(call.method, call.path, call.query, call.body):
        emu.record_problem("invalid-request", problem)


def _check_response(emu: Hub, call: Call, response: web.Response) -> None:
    body = json.loads(response.body) if response.body else None  # type: ignore[arg-type]
    for problem in validation.validate_response(call.method, call.path, response.status, body):
        emu.record_problem("invalid-response", problem)
