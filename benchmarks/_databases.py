"""A fresh, migrated database for one benchmark run: an SQLite file, or a PostgreSQL database of its
own (created beside the one ``UNSTUCK_TEST_POSTGRES_URL`` names, and dropped afterwards)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from storage.migrate import upgrade

POSTGRES_ENV = "UNSTUCK_TEST_POSTGRES_URL"


@asynccontextmanager
async def fresh_database(kind: str, folder: Path, name: str) -> AsyncIterator[str]:
    """The URL of an empty, migrated database (``kind`` "sqlite" or "postgres") called ``name``."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / f'{name}.db'}"
        await asyncio.to_thread(upgrade, url)
        yield url
        return
    import asyncpg

    base = os.environ[POSTGRES_ENV]
    database = f"unstuck_{name}_{uuid.uuid4().hex[:8]}"
    plain = base.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(plain)
    await conn.execute(f"CREATE DATABASE {database}")
    await conn.close()
    try:
        url = base.rsplit("/", 1)[0] + f"/{database}"
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        conn = await asyncpg.connect(plain)
        await conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        await conn.close()
