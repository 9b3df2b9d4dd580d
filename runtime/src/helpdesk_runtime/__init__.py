"""What every service does the same way: settings, logging, broker, Mongo, outbox, lease, retry.

A package of its own so that `helpdesk_contracts` (the message models and the topology) stays
installable with pydantic alone, while the services share this without importing one another.
"""
