"""Helpdesk gateway service."""
