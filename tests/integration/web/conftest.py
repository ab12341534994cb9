"""Web fixtures: the web component in-process on a free port, with its own users, audit and floor
files, a stand-alone floor of this suite's seats (1271-1280), and the real lab's AMI + call tracker."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hotline.telephony.tracker import CallTracker
from hotline.web.component import WebComponent
from hotline.web.config import FloorConfig, WebConfig
from hotline.web.floor import StandaloneFloor
from hotline.web.users import add_user

SEATS = range(1271, 1281)  # this suite's seats only (other suites use the same Asterisk)
PASSWORD = "lab-password-1"


@dataclass
class WebLab:
    component: WebComponent
    base: str

    @property
    def floor(self) -> StandaloneFloor:
        assert isinstance(self.component.floor, StandaloneFloor)
        return self.component.floor


def basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()}


@pytest.fixture(scope="session")
def web_users(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("webusers") / "users.yaml"
    add_user(path, "sup", "supervisor", PASSWORD, seat="1271")
    add_user(path, "ag", "agent", PASSWORD, agent_id="1272")
    add_user(path, "qa", "qa-reviewer", PASSWORD)
    add_user(path, "admin", "admin", PASSWORD)
    return path


def web_config(tmp_path: Path, users: Path) -> WebConfig:
    return WebConfig(users_file=users, secret_file=tmp_path / "session.key", audit_log=tmp_path / "audit.jsonl",
                     floor=FloorConfig(first_agent=SEATS[0], last_agent=SEATS[-1],
                                       events_log=tmp_path / "floor.jsonl"))


@pytest.fixture
async def web_lab(tmp_path: Path, web_users: Path, tracked: CallTracker) -> AsyncIterator[WebLab]:
    """The web app on the real lab's AMI (call model included)."""
    comp = WebComponent(web_config(tmp_path, web_users), ami=tracked.client, tracker=tracked, port=0)
    await comp.start()
    yield WebLab(comp, f"http://127.0.0.1:{comp.port}")
    await comp.stop()


@pytest.fixture
async def web_alone(tmp_path: Path, web_users: Path) -> AsyncIterator[WebLab]:
    """The web app with no AMI (API, auth and schema tests)."""
    comp = WebComponent(web_config(tmp_path, web_users), port=0)
    await comp.start()
    yield WebLab(comp, f"http://127.0.0.1:{comp.port}")
    await comp.stop()
