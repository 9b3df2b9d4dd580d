"""helpdesk-admin: the operator's command line for a running helpdesk."""
