"""Shared test set-up: fixtures live in tests/fixtures/, one module per server or concern."""

pytest_plugins = [
    "tests.fixtures.smtp",
    "tests.fixtures.imap",
    "tests.fixtures.postgres",
    "tests.fixtures.temporal",
    "tests.fixtures.db",
    "tests.fixtures.api",
    "tests.fixtures.dns_server",
]
