"""Helpdesk mailer service."""
