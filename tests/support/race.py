"""Races: requests sent from real threads, each with its own client and database session, released together."""

import threading

from tests.support.auth import Auth


def logged_in(app, user, csrf_from: str):
    """A new client logged in as `user`, and the CSRF token of its session (read from the page `csrf_from`)."""
    client = app.test_client()
    with app.app_context():
        Auth(client).login_as(user)
        return client, client.csrf_token(csrf_from)


def race(app, posts):
    """POST each (client, url, data) from a thread of its own; a barrier releases them at the same moment."""
    barrier = threading.Barrier(len(posts))
    results: list = [None] * len(posts)

    def run(index):
        client, url, data = posts[index]
        with app.app_context():
            barrier.wait()
            results[index] = client.post(url, data=data)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(posts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results
