"""Errors a use case raises for the user to read: cogs show the message, politely and ephemerally."""

from __future__ import annotations


class UserFacingError(Exception):
    """Something the user asked for cannot be done; ``str(error)`` says why, in plain words."""


class NotAllowed(UserFacingError):
    """The member lacks the role or permission the action needs."""


class NotFound(UserFacingError):
    """The thing the action is about is not (or no longer) tracked."""
