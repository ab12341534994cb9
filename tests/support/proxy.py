"""A TCP relay that can go silent: to test that a dead AMI connection is detected.

``freeze()`` stops relaying in both directions without closing anything, like a peer or
a firewall that silently drops packets: no FIN, no RST, just nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable


class SilenceableProxy:
    """Relay 127.0.0.1:<port> -> target. Start with :meth:`start`, close with :meth:`close`."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.frozen = asyncio.Event()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections = 0

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    def freeze(self) -> None:
        self.frozen.set()

    def thaw(self) -> None:
        self.frozen.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers += [writer, up_writer]
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while True:
                data = await src.read(65536)
                if not data:
                    break
                if self.frozen.is_set():
                    continue  # swallow: the other side never hears of it
                dst.write(data)
                await dst.drain()
        with contextlib.suppress(Exception):
            dst.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for w in self._writers:
            with contextlib.suppress(Exception):
                w.close()
        for t in list(self._tasks):
            t.cancel()


class EventDroppingProxy(SilenceableProxy):
    """A :class:`SilenceableProxy` that also drops the AMI messages ``drop(message)`` picks (bytes of
    one message, without the blank line) on their way to the client: an event Asterisk sent and
    hotline never received, with the connection itself healthy."""

    def __init__(self, target_host: str, target_port: int, drop: Callable[[bytes], bool]) -> None:
        super().__init__(target_host, target_port)
        self.drop = drop
        self.dropped = 0

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers += [writer, up_writer]
        for coro in (self._pipe(reader, up_writer), self._filter(up_reader, writer)):
            task = asyncio.create_task(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _filter(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError, asyncio.IncompleteReadError):
            dst.write(await src.readuntil(b"\r\n"))  # the greeting line has no blank line after it
            buf = b""
            while True:
                data = await src.read(65536)
                if not data:
                    break
                buf += data
                *messages, buf = buf.split(b"\r\n\r\n")
                for msg in messages:
                    if self.drop(msg):
                        self.dropped += 1
                        continue
                    if not self.frozen.is_set():
                        dst.write(msg + b"\r\n\r\n")
                await dst.drain()
        with contextlib.suppress(Exception):
            dst.close()
