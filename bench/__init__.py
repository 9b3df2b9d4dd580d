"""The helpdesk benchmark: `uv run python -m bench [--employees N]` (see run.py).

Not a test: pytest never collects it (testpaths = ["tests"]), and it asserts no goal; it
measures and writes bench/results.md.
"""
