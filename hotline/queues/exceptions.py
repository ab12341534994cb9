"""Errors raised by the queues core.

Expected outcomes (no agent free, a caller still waiting) are values, never exceptions; these
classes are for programming or configuration mistakes an operator must see.

``QueuesError`` is the base of this package, under the service-wide ``HotlineError``.
"""

from __future__ import annotations

from hotline.kernel.errors import HotlineError


class QueuesError(HotlineError):
    """Base class of every error raised by ``queues``."""


class InvalidQueueConfig(QueuesError, ValueError):
    """A queue, agent or call definition is malformed (bad proficiency, unknown overflow target ...)."""


class InvalidErlangInput(QueuesError, ValueError):
    """Erlang C was given a negative, non-finite or unreachable input."""


class IllegalTransition(QueuesError):
    """An agent state change that the state machine forbids (e.g. ``answered`` while READY).

    Attributes:
        agent_id: the agent.
        from_status: the agent's status name at the time.
        action: the transition asked for (``"reserve"``, ``"answered"`` ...).
        linkedid: the call concerned, when there is one.
    """

    def __init__(self, agent_id: str, from_status: str, action: str, linkedid: str | None = None) -> None:
        self.agent_id = agent_id
        self.from_status = from_status
        self.action = action
        self.linkedid = linkedid
        call = f" (call {linkedid})" if linkedid else ""
        super().__init__(f"agent {agent_id}: cannot {action} from {from_status}{call}")


class UnknownAgent(QueuesError, KeyError):
    """An event names an agent that is not configured."""


class UnknownQueue(QueuesError, KeyError):
    """An event names a queue that is not configured."""


class CallNotQueued(QueuesError, LookupError):
    """A command names a call that is not waiting or ringing an agent (already answered or gone)."""

    def __init__(self, linkedid: str) -> None:
        self.linkedid = linkedid
        super().__init__(f"call {linkedid} is not queued (answered or gone)")
