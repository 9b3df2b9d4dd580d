"""Keyboards, built by functions from texts and data (no texts of their own)."""
