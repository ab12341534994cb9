"""Fixtures for the routing component on the real lab: agents file, Redis store, SIPp phones and callers.

Seats used here: 1001-1100 only (other suites use other seats on the same Asterisk).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from redis.asyncio import Redis

from hotline.app.config import AmiConfig
from hotline.queues.config import RoutingSettings, load_agents_file
from hotline.queues.dispatch import Dispatcher
from hotline.queues.eventlog import RoutingEventLog
from hotline.queues.handover import QueueRequest
from hotline.queues.store import RoutingStore
from hotline.telephony.ami import AmiClient
from hotline.telephony.calls import Leg
from hotline.telephony.tracker import CallTracker
from hotline_lab.sipp import SippRun, register_seats, start_sipp
from tests.support.servers import ServerProcess
from tests.support.wait import until

QUEUES_YAML = """
queues:
  - {name: commerce, skills: [commerce], wrap_up_s: 1, ring_timeout_s: 3}
  - {name: labour_social, skills: [labour_social], wrap_up_s: 1, ring_timeout_s: 3}
agents:
  - {id: '1100', skills: {commerce: 1, labour_social: 1}}  # stays logged out: every skill is held
"""


def write_agents(tmp_path: Path, agents: str) -> Path:
    """An agents file with the two test queues and ``agents`` (YAML list items)."""
    path = tmp_path / "agents.yaml"
    path.write_text(QUEUES_YAML + agents)
    return path


def citizen_number() -> str:
    return f"139{random.randrange(10**8):08d}"


@dataclass
class Lab:
    """What a routing test needs: a workdir, the AMI config, a private Redis, things to clean up."""

    tmp_path: Path
    ami_config: AmiConfig
    redis_url: str
    runs: list[SippRun] = field(default_factory=list)
    closers: list[Callable[[], object]] = field(default_factory=list)
    stopped: list[Dispatcher] = field(default_factory=list)

    async def stop(self, d: Dispatcher) -> None:
        """Stop a routing component and its AMI connection (a service shutdown)."""
        await d.stop()
        await d.ami.stop()
        self.stopped.append(d)

    async def phones(self, scenario: str, seats: list[int], calls: int = 20, ring_ms: int = 200) -> SippRun:
        """A SIPp phone farm (``answer`` or ``noanswer``) with ``seats`` registered to it."""
        run = await start_sipp(scenario, self.tmp_path, calls=calls, duration_ms=ring_ms, timeout_s=120)
        self.runs.append(run)
        await register_seats(seats, run.port, self.tmp_path)
        return run

    async def caller(self, tracker: CallTracker, talk_ms: int = 4000) -> tuple[SippRun, Leg]:
        """A citizen dialling the test line 12399 (parked on MOH in hotline-hold); returns its answered leg."""
        number = citizen_number()
        run = await start_sipp("caller", self.tmp_path, duration_ms=talk_ms, timeout_s=120,
                               keys={"caller": number, "dial": "12399"})
        self.runs.append(run)

        def leg() -> Leg | None:
            for lg in tracker.model.legs.values():
                if lg.caller_num == number and lg.channel.startswith("PJSIP/trunk") and lg.state == "Up":
                    return lg
            return None

        return run, await until(leg, timeout=15, what=f"caller {number} parked in hotline-hold")

    async def dispatcher(self, agents_file: Path, ami_config: AmiConfig | None = None) -> Dispatcher:
        """A started routing component on its own AMI connection (and call tracker), Redis store and
        event log, as the service builds it; each call is a fresh start (a restart of the service).
        ``ami_config``: another AMI endpoint (a proxy), else the lab's."""
        client = AmiClient(ami_config or self.ami_config)
        tracker = CallTracker(client)
        await client.start()
        await client.wait_connected(timeout=15)
        redis = Redis.from_url(self.redis_url)
        queues, agents = load_agents_file(agents_file)
        settings = RoutingSettings(agents_file=agents_file, action_timeout_s=5.0)
        d = Dispatcher(client, tracker, queues, agents, settings=settings,
                       store=RoutingStore(redis, "test:routing:snapshot"),
                       event_log=RoutingEventLog(self.tmp_path / "routing.log"))
        await d.start()

        async def close() -> None:
            if d not in self.stopped:
                await d.stop()
                await client.stop()
            await redis.aclose()

        self.closers.append(close)
        return d


def request_for(leg: Leg, queue: str, **kw: object) -> QueueRequest:
    """The hand-over the IVR would make for this caller leg."""
    return QueueRequest(linkedid=leg.linkedid, uniqueid=leg.uniqueid, channel=leg.channel,
                        caller_num=leg.caller_num, queue=queue, **kw)  # type: ignore[arg-type]


@pytest.fixture
async def lab(asterisk: object, ami_config: AmiConfig, redis_server: ServerProcess,
              tmp_path: Path) -> AsyncIterator[Lab]:
    redis = Redis.from_url(redis_server.url)
    await redis.delete("test:routing:snapshot")
    await redis.aclose()
    the_lab = Lab(tmp_path, ami_config, redis_server.url)
    yield the_lab
    for close in reversed(the_lab.closers):
        result = close()
        if hasattr(result, "__await__"):
            await result  # type: ignore[misc]
    for run in the_lab.runs:
        await run.stop()
