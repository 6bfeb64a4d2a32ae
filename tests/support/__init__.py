"""Helpers shared by test suites (not a test package of its own)."""
