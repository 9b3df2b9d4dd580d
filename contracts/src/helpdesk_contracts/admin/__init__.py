"""Operator commands and their answer."""
