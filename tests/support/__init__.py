"""Test tooling: real servers started privately for the tests, factories, the fake Bot API."""
