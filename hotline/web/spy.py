"""Listen / whisper / barge (pure): which agent leg to spy on and the AMI ``Originate`` that does it.

The supervisor's seat is rung (``Channel: PJSIP/<seat>``); when they answer, Asterisk runs
``ChanSpy(<agent channel>,<options>)``: ``q`` listen quietly, ``qw`` whisper (the agent hears the
supervisor, the citizen does not), ``qB`` barge (both hear). The agent leg is found in the call model
by ``linkedid`` (never by channel name); the channel name is read from the model at the moment of the
request, since Asterisk renames channels on masquerade.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from hotline.telephony.calls import Call, Leg
from hotline.telephony.headers import check_id, check_value

SPY_OPTIONS: dict[str, str] = {"listen": "q", "whisper": "qw", "barge": "qB"}
_SEAT_CHANNEL = re.compile(r"^PJSIP/(\d+)-")


def agent_of_leg(leg: Leg) -> str | None:
    """The seat number of a ``PJSIP/<seat>-xxxx`` leg, else None (citizens come from ``PJSIP/trunk-``)."""
    m = _SEAT_CHANNEL.match(leg.channel)
    return m.group(1) if m else None


def pick_agent_leg(call: Call, agent_ids: Iterable[str], agent_id: str | None = None) -> Leg | None:
    """The live leg of an agent in ``call``: ``agent_id``'s if given, else the only agent leg.

    Args:
        agent_ids: ids of known agents (seats); other PJSIP endpoints are not agents.
    Returns:
        The leg, or None when no (or more than one, without ``agent_id``) agent leg is live.
    """
    known = set(agent_ids)
    legs = [leg for leg in call.active_legs if (a := agent_of_leg(leg)) is not None and a in known
            and (agent_id is None or a == agent_id)]
    return legs[0] if len(legs) == 1 else None


def spy_originate(mode: str, supervisor_seat: str, agent_channel: str, timeout_s: float,
                  caller_id: str = "hotline supervisor") -> dict[str, str]:
    """The ``Originate`` fields for ``mode`` (``listen``, ``whisper``, ``barge``).

    Args:
        supervisor_seat: the PJSIP endpoint that rings (the supervisor's phone).
        agent_channel: the agent leg's current channel name.
        timeout_s: how long the supervisor's phone rings (``Timeout``, in ms on the wire).
    Raises:
        KeyError: unknown mode.
        UnsafeHeaderValue: ``supervisor_seat`` outside ``[A-Za-z0-9_-]`` (it reaches ``Channel`` and
            ``CallerID``), or ``caller_id`` with a comma, ``${`` or CR/LF.
    """
    check_id(supervisor_seat, "seat")
    check_value(caller_id, "caller_id")
    return {
        "Channel": f"PJSIP/{supervisor_seat}",
        "Application": "ChanSpy",
        "Data": f"{agent_channel},{SPY_OPTIONS[mode]}",
        "CallerID": f'"{caller_id}" <{supervisor_seat}>',
        "Timeout": str(int(timeout_s * 1000)),
        "Async": "true",
    }
