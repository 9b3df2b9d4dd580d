"""Scripted employees for the fault tests and the benchmark: chat watching over the fake Bot
API (`chats`), the employee's journey (`people`), the SMTP sink's spool read incrementally
(`mail`), and the photos they attach (`photos`)."""
