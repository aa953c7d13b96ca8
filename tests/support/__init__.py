"""Helpers shared by tests (never imported from a test_*.py)."""
