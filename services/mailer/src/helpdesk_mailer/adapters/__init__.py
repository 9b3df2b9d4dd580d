"""The only modules that do I/O: SMTP, MongoDB state, GridFS photos."""
