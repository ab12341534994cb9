"""The ``ivr:`` section of the configuration tree (one field of ``hotline.config.Settings``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EXAMPLES = Path(__file__).resolve().parent / "examples"
LAB_SOUNDS = Path(os.environ.get("HOTLINE_LAB_ROOT", "/var/lib/hotline")) / "chroot/usr/share/asterisk/sounds"


class IvrConfig(BaseModel):
    """IVR over AsyncAGI: which menu, where prompts are, timeouts, and the data sources.

    Attributes:
        enabled: build the IVR component in ``hotline run``.
        menu_path: a menu YAML file or a folder of them; watched and reloaded when it changes.
        prompt_dir: Asterisk's sound folder, as seen by hotline (the lab chroot's); every menu prompt
            must exist there at load and reload. None skips the check.
        prompt_catalog: texts for ``hotline ivr prompts`` (espeak-ng synthesis).
        reload_interval_s: how often the menu files' mtimes are polled.
        caller_prefixes: only drive calls whose caller number starts with one of these (empty: all
            calls). Lets two hotline instances, or test runs, share one Asterisk.
        action_timeout_s: bound of each AMI action (AGI, Setvar, Redirect).
        ami_wait_s: while AMI is down (reconnecting), how long a live session's next action waits
            for the connection before it fails (the caller hears silence meanwhile; the action had
            not been sent, so it is sent once the connection is back).
        command_timeout_s: bound of waiting for an AGI command's ``AsyncAGIExec`` beyond its own
            input timeout (prompts may be long).
        lookup_timeout_s: bound of a work-order or announcement lookup.
        handover_timeout_s: bound of the injected hand-over callable.
        typeahead_max_keys: at most this many keys typed ahead wait per call (later ones are dropped
            and counted; :mod:`hotline.ivr.typeahead`).
        hold_context: dialplan context a handed-over caller is redirected to (``s,1``: music on hold).
        announcements_key: Redis hash key (after ``redis.key_prefix``).
        work_orders: ``memory`` (stand-in, empty) or ``rt`` (Request Tracker, credentials in ``rt_env``).
        rt_env: the lab's ``rt.env`` (``HOTLINE_RT_URL``, ``HOTLINE_RT_TOKEN``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    menu_path: Path = EXAMPLES / "12345.yaml"
    prompt_dir: Path | None = LAB_SOUNDS
    prompt_catalog: Path = EXAMPLES / "prompts.yaml"
    reload_interval_s: float = Field(5.0, gt=0)
    caller_prefixes: tuple[str, ...] = ()
    action_timeout_s: float = Field(5.0, gt=0)
    ami_wait_s: float = Field(15.0, ge=0)
    command_timeout_s: float = Field(300.0, gt=0)
    lookup_timeout_s: float = Field(3.0, gt=0)
    handover_timeout_s: float = Field(5.0, gt=0)
    typeahead_max_keys: int = Field(32, ge=1, le=1000)
    hold_context: str = "hotline-hold"
    announcements_key: str = "ivr:announcements"
    work_orders: Literal["memory", "rt"] = "memory"
    rt_env: Path = Path(os.environ.get("HOTLINE_RT_DIR", "/var/lib/hotline/rt")) / "rt.env"
