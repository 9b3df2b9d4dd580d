"""Messages owned by the inbox."""
