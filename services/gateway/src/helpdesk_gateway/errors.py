"""Typed errors of the gateway; edges translate them into replies, retries or dead letters."""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every gateway error."""


class CatalogueError(GatewayError):
    """The category catalogue file is missing or invalid; the message says where."""


class LocaleError(GatewayError):
    """A locale file is missing, invalid, or disagrees with the default locale."""


class PhotoRejectedError(GatewayError):
    """A photo cannot be accepted; `reason` names the locale text that explains why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
