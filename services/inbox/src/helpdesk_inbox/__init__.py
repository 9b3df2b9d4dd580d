"""Helpdesk inbox service."""
