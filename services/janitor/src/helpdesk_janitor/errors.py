"""Errors of the janitor."""

from __future__ import annotations


class JanitorError(Exception):
    """Base of the janitor's own errors."""


class LeaseLostError(JanitorError):
    """The run's lease expired and another run took it: this run stops at once."""
