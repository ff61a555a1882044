"""Rate limits shared by several workers through the real Redis at 127.0.0.1:6379."""

from __future__ import annotations

import logging
import os
import secrets

import pytest

from safedesk.config import LimitsConfig
from safedesk.web.security import Rate, RateLimiter
from safedesk.web.shared_limits import SharedRateLimiter, build_rate_limiter

REDIS_URL = os.environ.get("SAFEDESK_TEST_REDIS", "redis://127.0.0.1:6379/15")


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(not _redis_up(), reason=f"no Redis at {REDIS_URL}")


@pytest.fixture
def prefix() -> str:
    return f"safedesk-test:{secrets.token_hex(4)}:"


@needs_redis
def test_workers_share_one_bucket(prefix: str) -> None:
    """Two limiters stand for two worker processes: together they allow the burst once, not twice."""
    first, second = SharedRateLimiter(REDIS_URL, prefix), SharedRateLimiter(REDIS_URL, prefix)
    rate = Rate(burst=3, per_minute=1)
    allowed = [limiter.hit("messages-ip", "203.0.113.9", rate) is None for limiter in (first, second) * 3]
    assert allowed == [True, True, True, False, False, False]
    wait = second.hit("messages-ip", "203.0.113.9", rate)
    assert wait is not None and 0 < wait <= 60
    assert first.hit("messages-ip", "198.51.100.7", rate) is None  # other clients have their own bucket
    first.close()
    second.close()


@needs_redis
def test_buckets_expire_so_redis_keeps_only_active_clients(prefix: str) -> None:
    import redis

    limiter = SharedRateLimiter(REDIS_URL, prefix)
    limiter.hit("polls-ip", "203.0.113.9", Rate(burst=10, per_minute=600))
    ttl = redis.Redis.from_url(REDIS_URL).ttl(f"{prefix}polls-ip:203.0.113.9")
    assert 0 < ttl <= 2  # a full refill takes 1 s
    limiter.close()


def test_unreachable_redis_falls_back_to_per_worker_limits(caplog: pytest.LogCaptureFixture) -> None:
    limiter = SharedRateLimiter("redis://127.0.0.1:1/0", timeout=0.2)  # nothing listens on port 1
    rate = Rate(burst=2, per_minute=1)
    with caplog.at_level(logging.WARNING, logger="safedesk.web.shared_limits"):
        results = [limiter.hit("messages-ip", "203.0.113.9", rate) for _ in range(3)]
    assert results[:2] == [None, None] and results[2] is not None  # still limited, by the local buckets
    assert sum("Redis unreachable" in r.message for r in caplog.records) == 1  # said once, not per request


def test_config_picks_the_limiter_and_rejects_non_redis_urls() -> None:
    assert isinstance(build_rate_limiter(LimitsConfig()), RateLimiter)
    assert isinstance(build_rate_limiter(LimitsConfig(rate_limit_redis_url=REDIS_URL)), SharedRateLimiter)
    with pytest.raises(ValueError, match="not a Redis URL"):
        LimitsConfig(rate_limit_redis_url="http://127.0.0.1:6379")


@needs_redis
def test_two_app_workers_configured_with_redis_share_the_limit(fresh_demo_dir, prefix: str) -> None:  # type: ignore[no-untyped-def]
    """The config wiring end to end: two apps (two workers) on a desk whose safedesk.yaml names Redis."""
    from fastapi.testclient import TestClient

    from safedesk.desk import Desk
    from safedesk.web.app import create_app
    from safedesk.web.security import RateLimits

    config = fresh_demo_dir / "safedesk.yaml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + f"limits:\n  rate_limit_redis_url: {REDIS_URL}\n  rate_limit_redis_prefix: '{prefix}'\n",
        encoding="utf-8",
    )
    desk = Desk.open(fresh_demo_dir)
    limits = RateLimits(conversations_per_ip=Rate(burst=3, per_minute=1))
    try:
        with (
            TestClient(create_app(desk, rate_limits=limits)) as worker_a,
            TestClient(create_app(desk, rate_limits=limits)) as worker_b,
        ):
            codes = [w.post("/api/v1/conversations").status_code for w in (worker_a, worker_b, worker_a, worker_b)]
        assert codes == [201, 201, 201, 429]
    finally:
        desk.close()
