"""Fixtures of the API tests: tokens made the way the profile makes them, and a client that sends them."""

import pytest

from tests.support.api import Api


@pytest.fixture
def api(app):
    return Api(app)
