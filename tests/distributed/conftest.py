"""Real PostgreSQL and Redis for the distributed tests (started by scripts/services.sh).

On a developer box without the services these tests skip with the reason; under CI (``CI=true``)
a missing service fails the run instead, so a broken ``make test`` cannot pass by skipping.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).parent))

PG_URL = os.environ.get(
    "TEST_POSTGRES_URL",
    "postgresql+psycopg://crm_sync_test:crm_sync_test@127.0.0.1:5432/crm_sync_test",
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _unavailable(what: str, exc: Exception) -> None:
    reason = f"{what} is not reachable ({type(exc).__name__}); run `bash scripts/services.sh`"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def pg_url() -> str:
    """A PostgreSQL URL with an empty public schema (every test starts from migration 0)."""
    try:
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    except Exception as exc:
        _unavailable("PostgreSQL", exc)
    return PG_URL


@pytest.fixture
def redis_url() -> str:
    """A flushed Redis database for a broker and result backend."""
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.flushdb()
        client.close()
    except Exception as exc:
        _unavailable("Redis", exc)
    return REDIS_URL
