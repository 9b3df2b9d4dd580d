"""The whole helpdesk on one machine, for people (`helpdesk sandbox`) and for tests.

A developer tool built on the server harness `helpdesk_harness` (tools/harness: slapd with demo
employees, Dovecot, the SMTP sink, the Mongo-wire server, the fake Bot API); it imports nothing
from `tests/`. It runs from a checkout: its default work directory is `.sandbox/` under the
repository root (see `repo.py`).

- `stack.Sandbox`: the orchestrator (a Python API; tests, fault tests and the benchmark use it).
- `imsim`: the InfraManager simulator (answers ticket emails into the POP3 mailbox).
- `webchat`: the web chat page, a browser stand-in for Telegram on top of the fake Bot API.
- `cli`: `helpdesk sandbox`, one command with a banner; Ctrl-C stops everything.
"""
