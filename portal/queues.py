"""Redis connection and RQ queues, named by purpose."""

from flask import Flask, current_app, g
from redis import Redis
from rq import Queue

_pool: dict[str, Redis] = {}
_worker_app: Flask | None = None


def set_worker_app(app: Flask) -> None:
    """The `flask worker` process's app: its forked work-horses inherit it instead of building their own."""
    global _worker_app
    _worker_app = app


def worker_app() -> Flask:
    """The app jobs run in: the worker's, or one built from the environment (a job run some other way)."""
    global _worker_app
    if _worker_app is None:
        from portal import create_app

        _worker_app = create_app()
    return _worker_app


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


def webhook_queue() -> Queue:
    if "webhook_queue" not in g:
        g.webhook_queue = Queue(queue_name("webhooks"), connection=redis_connection())
    return g.webhook_queue
