"""`python -m helpdesk_inbox [command]`: the same as the `helpdesk-inbox` console script."""

from helpdesk_inbox.cli import main

main()
