"""No route talks to the database on the event loop.

A database call on the loop can block it while another request holds SQLite's write lock
and needs the loop to commit: both wait until the busy timeout. Handlers are plain ``def``
(run in the thread pool); the only ``async`` ones stream uploads and hand their database
work to the thread pool.
"""

import inspect
import re

from fastapi.routing import iter_route_contexts

from app.main import app

STREAMING = {("POST", "/api/v1/entries/{entry_id}/files"), ("POST", "/entries/{entry_id}/files")}


def test_only_streaming_uploads_are_async_handlers():
    async_routes = {
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        if getattr(route, "dependant", None) is not None
        and inspect.iscoroutinefunction(route.endpoint)
        for method in route.methods
    }
    assert async_routes == STREAMING


def test_streaming_uploads_use_the_thread_pool_for_the_database():
    from app.entries import api, pages

    for handler in (api.upload_file, pages.upload_file):
        source = inspect.getsource(handler)
        assert re.search(r"run_in_threadpool\((\w+\.)?upload_limits", source)
        assert re.search(r"run_in_threadpool\((\w+\.)?attach_file", source)
