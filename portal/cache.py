"""Results worth keeping for a while, in Redis: one helper, so every cached thing degrades the same way.

Without Redis (the embedded demo) or with Redis down, the value is simply made again; a cache is never the
reason a page fails. Keys carry RATELIMIT_KEY_PREFIX, the portal's prefix for its own Redis keys.
"""

import logging
from collections.abc import Callable

from flask import current_app
from redis import RedisError

from portal.queues import redis_connection

log = logging.getLogger(__name__)


def remembered(name: str, seconds: int, make: Callable[[], bytes]) -> bytes:
    """The bytes kept under `name`, else `make()` kept for `seconds`. `name` must say everything the bytes are
    made from: a change is a new name, never a stale value."""
    if not current_app.config["REDIS_URL"]:
        return make()
    key = f"{current_app.config['RATELIMIT_KEY_PREFIX']}:{name}"
    try:
        value = redis_connection().get(key)
    except RedisError as error:
        log.warning("cache unavailable: %s", error)
        return make()
    if value is None:
        value = make()
        try:
            redis_connection().set(key, value, ex=seconds)
        except RedisError as error:
            log.warning("cache unavailable: %s", error)
    return value
