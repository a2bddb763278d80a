"""A fresh, empty PostgreSQL database per test, on the server .ci/run starts.

``HIPBOT_TEST_POSTGRES_URL`` names a server (``scripts/postgres-test-server`` starts one).
Without it the PostgreSQL tests are skipped, except in CI (``CI`` set), where a missing
server fails the run instead of hiding the tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest


def server_url() -> str:
    url = os.environ.get("HIPBOT_TEST_POSTGRES_URL", "")
    if not url:
        if os.environ.get("CI"):
            pytest.fail(
                "CI is set but HIPBOT_TEST_POSTGRES_URL is not: .ci/run must start PostgreSQL"
            )
        pytest.skip("no PostgreSQL server: run scripts/postgres-test-server")
    return url


def fresh_database() -> Iterator[str]:
    """Create a new database, yield its URL, drop it afterwards."""
    import psycopg

    url = server_url()
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
