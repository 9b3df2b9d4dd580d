"""Helpdesk janitor service."""
