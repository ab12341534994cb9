"""The served OpenAPI document matches the app: schemathesis drives every operation against the
running app (in-process server on a free port, its own thread and loop) and checks each response's
status code, content type and body against the document."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis

from hotline.web.api import openapi_document
from hotline.web.component import WebComponent
from tests.integration.web.conftest import basic, web_config

schema = schemathesis.openapi.from_dict(openapi_document())


class ServerThread:
    """The web component served from its own event loop (schemathesis calls are blocking)."""

    def __init__(self, tmp: Path, users: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.component = WebComponent(web_config(tmp, users), port=0)
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.component.start(), self.loop).result(timeout=30)
        # two agents logged in, so state changes have something valid to act on
        for aid in ("1275", "1276"):
            asyncio.run_coroutine_threadsafe(self.component.floor.agent_login(aid), self.loop).result(timeout=5)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.component.port}"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.component.stop(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, web_users: Path) -> Iterator[ServerThread]:
    srv = ServerThread(tmp_path_factory.mktemp("openapi"), web_users)
    yield srv
    srv.stop()


def test_given_served_document_then_it_equals_the_generated_one(server: ServerThread) -> None:
    import requests

    r = requests.get(f"{server.base}/api/openapi.json", headers=basic("admin"), timeout=10)
    assert r.status_code == 200
    assert r.json() == openapi_document()
    assert r.json()["openapi"] == "3.1.0"


@schema.parametrize()
def test_given_api_operation_when_called_with_generated_data_then_responses_match_the_document(
        case: schemathesis.Case, server: ServerThread) -> None:
    # 503 "not-configured" is the documented answer of an operation whose provider is not wired
    # (callbacks, reminders, announcements, spy without AMI): not a server fault there
    documented_503 = "503" in case.operation.definition.raw.get("responses", {})
    excluded = [schemathesis.checks.not_a_server_error] if documented_503 else []
    # schemathesis' ignored_auth check sends wrong credentials again and again and wants 401/403 every
    # time; after 3 failures the login throttle answers 429 too-many-attempts (documented on every
    # operation; README "Security"), which is the point of the throttle, not a fault
    excluded.append(schemathesis.checks.ignored_auth)
    case.call_and_validate(base_url=server.base, headers=basic("admin"), timeout=10, excluded_checks=excluded)
