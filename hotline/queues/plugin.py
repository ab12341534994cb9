"""Builds the routing component from its settings slice and named collaborators.

Called by the composition root (:mod:`hotline.app.service`); the cross-domain links (the IVR's
node kinds, the callbacks' routing links) are made by :mod:`hotline.app.wiring`. What is built here:

* the agents file (``routing.agents_file``: queues and agents, validated at start);
* the dispatcher's store: Redis at ``redis.url`` under ``redis.key_prefix + routing.redis_key``;
* the agent commands (:class:`hotline.queues.control.AgentControl`) on their own Redis client, at
  ``redis.key_prefix + routing.command_key``;
* the routing event log at ``routing.event_log``.
"""

from __future__ import annotations

from redis.asyncio import Redis

from hotline.kernel.settings import RedisConfig
from hotline.queues.component import Routing
from hotline.queues.config import RoutingSettings, load_agents_file
from hotline.queues.control import AgentControl
from hotline.queues.dispatch import Dispatcher
from hotline.queues.eventlog import RoutingEventLog
from hotline.queues.store import RoutingStore
from hotline.telephony.ami import AmiClient
from hotline.telephony.tracker import CallTracker

__all__ = ["build_routing"]


def build_routing(cfg: RoutingSettings, redis: RedisConfig, ami: AmiClient, tracker: CallTracker) -> Routing:
    """The routing component (nothing connects until ``start``; its Redis clients close on ``stop``).

    Args:
        cfg: the ``routing:`` section.
        redis: the top-level ``redis:`` section (``url``, ``key_prefix``).
        ami: the service's AMI client.
        tracker: the service's call tracker.
    Raises:
        ConfigError: the agents file is invalid (every problem listed).
        OSError: the routing event log cannot be opened.
    """
    queues, agents = load_agents_file(cfg.agents_file)
    store_redis = Redis.from_url(redis.url)
    control_redis = Redis.from_url(redis.url)
    dispatcher = Dispatcher(ami, tracker, queues, agents, settings=cfg,
                            store=RoutingStore(store_redis, redis.key_prefix + cfg.redis_key),
                            event_log=RoutingEventLog(cfg.event_log))
    control = AgentControl(control_redis, redis.key_prefix + cfg.command_key, dispatcher)
    return Routing(dispatcher, control, [store_redis, control_redis])
