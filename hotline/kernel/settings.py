"""Settings of the shared plumbing every domain reaches: Redis and the MQTT broker."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RedisConfig(_Strict):
    """The Redis server (state, streams, outbox): ``redis.url`` of the root settings."""

    url: str = "redis://127.0.0.1:6379/0"
    key_prefix: str = "hotline:"


class MqttConfig(_Strict):
    """The MQTT broker of the event bus: ``mqtt`` of the root settings."""

    host: str = "127.0.0.1"
    port: int = 1883
    topic_prefix: str = "hotline"
