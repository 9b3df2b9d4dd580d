"""Messages owned by the auth service."""
