"""Rate limits shared by every worker, in Redis.

The in-process `RateLimiter` gives each worker its own buckets, so four workers allow four times the
limit. With `limits.rate_limit_redis_url` set, the buckets live in Redis instead: one Lua script per hit
refills and takes a token atomically, on Redis's own clock (workers' clocks may differ). Keys expire once
a bucket would be full again, so Redis keeps only active clients.

If Redis cannot be reached, the desk keeps serving and limits each worker on its own (the in-process
buckets) until Redis answers again; it logs when that starts and stops. A rate limit is abuse control,
not a safety decision: losing it for a while must not take the desk down.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

from safedesk.config import LimitsConfig
from safedesk.web.security import Limiter, Rate, RateLimiter

log = logging.getLogger(__name__)

# KEYS[1] bucket; ARGV burst, tokens per second. Returns "" (allowed) or the seconds to wait.
_BUCKET_SCRIPT = """
local burst = tonumber(ARGV[1])
local per_second = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1]) or burst
local updated = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated) * per_second)
local wait = ''
if tokens >= 1 then
  tokens = tokens - 1
elseif per_second > 0 then
  wait = tostring((1 - tokens) / per_second)
else
  wait = '3600'
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
local ttl = 60
if per_second > 0 then ttl = math.ceil(burst / per_second) + 1 end
redis.call('EXPIRE', KEYS[1], ttl)
return wait
"""


class SharedRateLimiter(Limiter):
    """Token buckets in Redis, shared by every worker; the in-process buckets while Redis is away."""

    retry_seconds = 5.0  # after a Redis failure, use the local buckets this long before trying again

    def __init__(self, url: str, prefix: str = "safedesk:rl:", *, client: Any = None, timeout: float = 0.25) -> None:
        import redis

        self._client = client or redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._script = self._client.register_script(_BUCKET_SCRIPT)
        self._prefix = prefix
        self._errors = (redis.RedisError, OSError)
        self.local = RateLimiter()
        self._down_until = 0.0
        self._lock = threading.Lock()

    def hit(self, name: str, key: str, rate: Rate) -> float | None:
        if time.monotonic() < self._down_until:
            return self.local.hit(name, key, rate)
        try:
            wait = self._script(keys=[f"{self._prefix}{name}:{key}"], args=[rate.burst, rate.per_second])
        except self._errors as exc:
            with self._lock:
                if time.monotonic() >= self._down_until:
                    log.warning("rate limits: Redis unreachable (%s); limiting each worker on its own", exc)
                self._down_until = time.monotonic() + self.retry_seconds
            return self.local.hit(name, key, rate)
        with self._lock:
            if self._down_until:
                log.info("rate limits: Redis is back; limits are shared again")
                self._down_until = 0.0
        text = wait.decode() if isinstance(wait, bytes) else str(wait or "")
        if not text:
            return None
        seconds = float(text)
        return seconds if math.isfinite(seconds) else 3600.0

    def close(self) -> None:
        self._client.close()


def build_rate_limiter(limits: LimitsConfig) -> Limiter:
    """The limiter the config asks for: shared in Redis, or per process (the default)."""
    if limits.rate_limit_redis_url:
        return SharedRateLimiter(limits.rate_limit_redis_url, limits.rate_limit_redis_prefix)
    return RateLimiter()
