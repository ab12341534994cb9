"""``hotline ami watch``: print every AMI message as one JSON line (the operator's view).

Each line: ``{"received_at": ..., "kind": "event"|"response"|..., "headers": {...},
"event": {"type": "ChannelCreated", ...}}`` where ``headers`` keeps a repeated key as a
list and ``event`` is present for messages hotline understands. Bytes that are not
UTF-8 are decoded with the fallback encoding (``"encoding"`` says which was used).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import sys
from typing import Any

from hotline.app.config import AmiConfig
from hotline.telephony.ami import AmiAuthError, AmiClient, AmiConnectionError
from hotline.telephony.events import DomainEvent
from hotline.telephony.frames import AmiMessage
from hotline.telephony.translate import ALL_EVENTS


def message_json(msg: AmiMessage | None, event: DomainEvent | None) -> dict[str, Any]:
    """The JSON object ``watch`` prints for one message (or hotline connection event)."""
    out: dict[str, Any] = {}
    if msg is not None:
        out = {"received_at": round(msg.received_at, 6), "kind": msg.kind, "headers": msg.to_dict()}
        if msg.encoding != "utf-8":
            out["encoding"] = msg.encoding
        if msg.garbage:
            out["garbage"] = msg.garbage
        if msg.body is not None:
            out["output"] = msg.body
    if event is not None:
        out["event"] = {"type": type(event).__name__, **dataclasses.asdict(event)}
    return out


async def watch(ami: AmiConfig, count: int = 0, timeout_s: float = 0.0) -> int:
    """Connect and print messages until ``count`` were printed or ``timeout_s`` passed.

    Returns:
        0 on success; 2 when the login is refused or AMI is unreachable (one-line error
        on stderr saying what to fix).
    """
    done = asyncio.Event()
    printed = 0

    def on_message(msg: AmiMessage | None, event: DomainEvent | None) -> None:
        nonlocal printed
        if done.is_set():
            return
        sys.stdout.write(json.dumps(message_json(msg, event), ensure_ascii=False) + "\n")
        sys.stdout.flush()
        printed += 1
        if count and printed >= count:
            done.set()

    logging.getLogger("hotline.ami").setLevel(logging.CRITICAL)  # errors are printed below, once
    client = AmiClient(ami, events=ALL_EVENTS)
    client.subscribe(on_message)
    await client.start()
    try:
        try:
            await client.wait_connected(timeout=ami.connect_timeout_s + 1, fail_fast=True)
        except AmiAuthError as exc:
            print(f"hotline: {exc}", file=sys.stderr)
            return 2
        except AmiConnectionError as exc:
            print(f"hotline: {exc} (is Asterisk running? try `hotline lab status`)", file=sys.stderr)
            return 2
        try:
            await asyncio.wait_for(done.wait(), timeout_s or None)
        except TimeoutError:
            pass
        return 0
    finally:
        await client.stop(drain_timeout=1.0)
