"""The workflow tests use the services of tests/conftest.py."""
