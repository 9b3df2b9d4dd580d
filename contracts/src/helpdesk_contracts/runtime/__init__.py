"""What every service does the same way: settings, logging, broker, topology, Mongo, outbox.

Kept inside `helpdesk_contracts` so that services share it without importing one another.
"""
