"""Agent commands through Redis to the routing component built as the service builds it."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis

from hotline.app.config import RedisConfig, Settings
from hotline.queues.config import RoutingSettings
from hotline.queues.control import AgentCommandError, send_agent_command
from hotline.queues.plugin import build_routing
from hotline.telephony.ami import AmiClient
from hotline.telephony.tracker import CallTracker
from tests.integration.queues.conftest import write_agents
from tests.support.servers import ServerProcess


async def test_given_the_running_routing_when_the_cli_sends_agent_commands_then_states_change_or_errors_say_why(
        asterisk: object, ami_config: object, redis_server: ServerProcess, tmp_path: Path) -> None:
    agents = write_agents(tmp_path, "  - {id: '1051', skills: {commerce: 4}}\n")
    settings = Settings().model_copy(update={
        "redis": RedisConfig(url=redis_server.url, key_prefix="ctl-test:"),
        "routing": RoutingSettings(agents_file=agents, event_log=tmp_path / "routing.log"),
    })
    client = AmiClient(ami_config)  # type: ignore[arg-type]
    routing = build_routing(settings.routing, settings.redis, client, CallTracker(client))
    await client.start()
    await client.wait_connected(timeout=15)
    await routing.start()
    cli = Redis.from_url(redis_server.url)
    key = "ctl-test:" + settings.routing.command_key
    try:
        assert (await send_agent_command(cli, key, "login", "1051"))["status"] == "not_ready"
        assert (await send_agent_command(cli, key, "ready", "1051"))["status"] == "ready"
        reply = await send_agent_command(cli, key, "pause", "1051", "lunch")
        assert (reply["status"], reply["reason"]) == ("not_ready", "lunch")
        assert routing.dispatcher.agent_state("1051").reason == "lunch"
        with pytest.raises(AgentCommandError, match="cannot login from not_ready"):
            await send_agent_command(cli, key, "login", "1051")
        with pytest.raises(AgentCommandError, match="9999"):
            await send_agent_command(cli, key, "ready", "9999")
        assert routing.report()["live"].agents_by_status["not_ready"] == 1  # type: ignore[attr-defined]
    finally:
        await routing.stop()
        await client.stop()
        await cli.aclose()
    with pytest.raises(AgentCommandError, match="no answer from the routing service"):
        cli = Redis.from_url(redis_server.url)
        try:
            await send_agent_command(cli, key, "ready", "1051", timeout_s=1)
        finally:
            await cli.aclose()
