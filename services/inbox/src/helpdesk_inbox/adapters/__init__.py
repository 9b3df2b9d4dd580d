"""The only modules of the inbox that do I/O: MongoDB collections and the POP3 mailbox."""
