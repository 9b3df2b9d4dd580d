"""Helpdesk auth service."""
