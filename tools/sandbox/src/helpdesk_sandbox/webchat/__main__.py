"""`python -m helpdesk_sandbox.webchat --port N --telegram URL --spool DIR`."""

from helpdesk_sandbox.webchat.server import main

main()
