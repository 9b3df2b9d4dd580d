"""Messages owned by the janitor."""
