"""The whole helpdesk on one machine, for people (`helpdesk sandbox`) and for tests.

A developer tool that only makes sense in a checkout of this repository: it reuses the test
harness in `tests/support` (slapd with demo employees, Dovecot, the SMTP sink, the Mongo-wire
server, the fake Bot API), so it finds the repository root (the directory holding `uv.lock` and
`tests/support`) and puts it on `sys.path` before importing `tests.support` (see `repo.py`).

- `stack.Sandbox`: the orchestrator (a Python API; tests, fault tests and the benchmark use it).
- `imsim`: the InfraManager simulator (answers ticket emails into the POP3 mailbox).
- `webchat`: the web chat page, a browser stand-in for Telegram on top of the fake Bot API.
- `cli`: `helpdesk sandbox`, one command with a banner; Ctrl-C stops everything.
"""
