"""Shared contracts of the helpdesk services."""
