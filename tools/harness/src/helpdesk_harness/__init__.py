"""The helpdesk's server harness: real servers started privately, in the foreground, in their
own process group, on free ports, plus the fake Telegram Bot API.

Used by the tests (through thin pytest fixtures in tests/support), the sandbox and the
benchmark. It does not depend on pytest, and nothing here imports `tests`.

- `procs`: processes in their own session, stopped by process group; free ports.
- `ldap_server`: OpenLDAP slapd with a seeded directory (LDAPS optional).
- `pop3_server`: Dovecot POP3/POP3S/STLS (2.3 and 2.4 configs).
- `smtp_sink`: a capturing aiosmtpd server with failure injection; `spool`: its .eml files.
- `mongo`, `mongo_server`: the mongoeco wire server as a process.
- `rabbit`: a RabbitMQ vhost of one's own on the machine's broker.
- `tcp_proxy`: a TCP proxy that can cut connections.
- `services`, `service_env`: the helpdesk services as OS processes.
- `fake_telegram`: the fake Bot API server and its client.
- `employees`: scripted employees driving the bot through the fake Bot API.
"""
