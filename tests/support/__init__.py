"""Shared helpers for the test suites (conformance checks against external reference material)."""
