"""The real server of a module of races, on a database of its own named after the module,
and an engine on that database for setting the scene and reading the outcome."""

import pytest

from app.db import make_engine
from tests.live import live_server


@pytest.fixture(scope="module")
def server(request):
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    with live_server(name) as live:
        yield live


@pytest.fixture(scope="module")
def db(server):
    engine = make_engine(server.database_url)
    yield engine
    engine.dispose()
