"""Logging set-up. The bot token must never reach a log line, whoever formats it."""

from __future__ import annotations

import logging


class RedactSecrets(logging.Filter):
    """Replace each secret with ``[redacted]`` in the final text of every record."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        text = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        cleaned = text
        for secret in self.secrets:
            cleaned = cleaned.replace(secret, "[redacted]")
            if record.exc_text:
                record.exc_text = record.exc_text.replace(secret, "[redacted]")
        if cleaned != text:
            record.msg, record.args = cleaned, None
        return True


def setup_logging(level: str, secrets: list[str] | None = None) -> None:
    """One stream handler with a readable format; the filter sits on the handler so it sees all loggers."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets or []))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # discord.py's gateway chatter at DEBUG is useful only when debugging the gateway itself.
    logging.getLogger("discord.gateway").setLevel(max(root.level, logging.INFO))
    # Alembic narrates each migration step and APScheduler each job it adds at INFO; Unstuck reports
    # what matters (an upgrade, a backup, start and stop) in one line each instead.
    for chatty in ("alembic", "apscheduler"):
        logging.getLogger(chatty).setLevel(logging.NOTSET if root.level <= logging.DEBUG else logging.WARNING)
