"""AMI liveness: a late Pong on a connection that still carries data is not a dropped connection.

A small AMI peer on loopback (no lab needed): it greets, accepts the Login, never answers ``Ping``,
and streams an event every 0.2 s; then it falls silent. Under CPU starvation Asterisk (or hotline)
can answer a Ping late while events keep flowing; dropping the connection then killed every
AsyncAGI call in the IVR (seen in ``make demo`` on a loaded 2-core machine).
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from hotline.app.config import AmiConfig
from hotline.telephony.ami import AmiClient
from tests.support.wait import until

pytestmark = pytest.mark.integration


class MutePongPeer:
    """Answers Login, ignores Ping, sends a ``Newexten``-like event every ``every_s`` while ``talking``."""

    def __init__(self, every_s: float = 0.2) -> None:
        self.every_s = every_s
        self.talking = True
        self.server: asyncio.Server | None = None
        self.port = 0
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        for t in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await t
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        self.tasks.append(asyncio.create_task(self._events(writer)))
        buf = b""
        while data := await reader.read(4096):
            buf += data
            while b"\r\n\r\n" in buf:
                frame, buf = buf.split(b"\r\n\r\n", 1)
                headers = dict(line.split(": ", 1) for line in frame.decode().split("\r\n") if ": " in line)
                if headers.get("Action", "").lower() == "login":
                    writer.write(f"Response: Success\r\nActionID: {headers.get('ActionID', '')}\r\n"
                                 "Message: Authentication accepted\r\n\r\n".encode())
                    await writer.drain()

    async def _events(self, writer: asyncio.StreamWriter) -> None:
        n = 0
        while True:
            await asyncio.sleep(self.every_s)
            if self.talking:
                n += 1
                writer.write(f"Event: Newexten\r\nUniqueid: peer-{n}\r\nLinkedid: peer-{n}\r\n\r\n".encode())
                await writer.drain()


async def test_given_pings_unanswered_while_events_flow_then_the_connection_is_kept_until_it_falls_silent() -> None:
    peer = MutePongPeer()
    await peer.start()
    client = AmiClient(AmiConfig(port=peer.port, ping_interval_s=0.5, reconnect_min_s=5.0))
    try:
        await client.start()
        await client.wait_connected(timeout=5)
        await until(lambda: client.stats.late_pings >= 2, timeout=6, what="two late Pings")
        assert client.stats.disconnects == 0  # data kept flowing: overloaded, not gone
        peer.talking = False  # now a silent socket: detected within two intervals of the next Ping
        await until(lambda: client.stats.disconnects == 1, timeout=4, what="silent socket detected")
        assert "nothing read" in client.stats.last_error
    finally:
        await client.stop()
        await peer.stop()
