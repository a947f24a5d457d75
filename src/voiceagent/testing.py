"""Pytest plugin (auto-loaded via the ``pytest11`` entry point): fixtures for users' own tests."""
