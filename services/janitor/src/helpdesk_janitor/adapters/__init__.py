"""The only modules of the janitor that talk to MongoDB."""
