"""Redis connection and RQ queues, named by purpose."""

from flask import current_app, g
from redis import Redis
from rq import Queue

_pool: dict[str, Redis] = {}


def redis_connection() -> Redis:
    url = current_app.config["REDIS_URL"]
    if url not in _pool:
        _pool[url] = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    return _pool[url]


def queue_name(purpose: str) -> str:
    return current_app.config["RQ_QUEUE_PREFIX"] + purpose


def email_queue() -> Queue:
    if "email_queue" not in g:
        g.email_queue = Queue(queue_name("emails"), connection=redis_connection())
    return g.email_queue
