"""Helpdesk inbox service: InfraManager's notification emails (POP3) become ticket events."""
