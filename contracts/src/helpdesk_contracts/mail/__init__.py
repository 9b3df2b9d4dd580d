"""Messages owned by the mailer."""
