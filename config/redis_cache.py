"""Django's Redis cache, keeping one redis-py client per connection pool.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` for every cache call, and each
construction fills a table of about 170 response callbacks: about a third of a millisecond, several
times per request (routing, the token check, a cached page), more than the Redis round trips
themselves. A client holds no connection of its own (the pool does, and redis-py's pool resets itself
in a forked child), so one client per pool serves every call, from any thread.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends import redis as django_redis


class PooledClientRedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # (django-stubs do not declare the base's private members used here.)
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
            client = self._clients[index] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = PooledClientRedisCacheClient
