"""Test infrastructure shipped with the project (the pytest plugin lives here)."""
