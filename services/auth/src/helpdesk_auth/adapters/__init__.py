"""The only modules of auth that do I/O: the directory (LDAP) and the store (MongoDB)."""
