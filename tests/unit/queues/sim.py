"""Random routing simulations for property tests: a small centre driven by hypothesis draws.

Times advance in multiples of 0.25 s and ageing rates are powers of two, so every float the core
computes is exact and fast/naive comparisons are not at the mercy of rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

from hotline.queues.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReady,
    AgentSkillsChanged,
    AnsweredCallEnded,
    CallAbandoned,
    CallAnswered,
    CallbackRequested,
    CallQueued,
    CallTransferred,
    OfferFailed,
    WrapUpEnded,
)
from hotline.queues.model import Agent, AgentStatus, ExpansionStep, MaxWaitAction, QueueConfig

SKILLS = ("labour", "housing", "transport", "commerce")
LANGS = ("zh", "yue", "en")


def make_queues(voicemail: bool = False) -> list[QueueConfig]:
    """Three queues exercising expansion, group, ageing, overflow and max wait."""
    return [
        QueueConfig(
            "labour",
            frozenset({"labour"}),
            wrap_up_s=5.0,
            min_proficiency=4,
            expansion=(ExpansionStep(10.0, min_proficiency=2), ExpansionStep(20.0, any_in_group=True)),
            group="front",
            ageing_per_s=0.5,
            max_wait_s=60.0,
            max_wait_action=MaxWaitAction.VOICEMAIL if voicemail else MaxWaitAction.CALLBACK,
        ),
        QueueConfig(
            "housing",
            frozenset({"housing", "commerce"}),
            wrap_up_s=0.0,
            min_proficiency=3,
            expansion=(ExpansionStep(5.0, min_proficiency=1),),
            overflow_queue="general",
            overflow_after_s=15.0,
            ageing_per_s=0.25,
        ),
        QueueConfig("general", frozenset(), wrap_up_s=2.5, ageing_per_s=0.0, max_wait_s=40.0),
    ]


QUEUE_NAMES = ("labour", "housing", "general")


@st.composite
def agent_defs(draw: st.DrawFn, n_min: int = 2, n_max: int = 7) -> list[Agent]:
    n = draw(st.integers(n_min, n_max))
    out = []
    for i in range(n):
        skills = draw(st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), max_size=4))
        langs = draw(st.frozensets(st.sampled_from(LANGS), min_size=1, max_size=2))
        groups = draw(st.frozensets(st.sampled_from(("front", "back")), max_size=1))
        out.append(Agent(f"a{i}", skills, langs, groups))
    return out


@dataclass
class Harness:
    """Bookkeeping of what the test fed in: which calls were queued and how each ended."""

    queued: set[str] = field(default_factory=set)
    ended: dict[str, str] = field(default_factory=dict)
    log: list[object] = field(default_factory=list)  # input events + facts, in order
    n_calls: int = 0


def draw_event(draw: st.DrawFn, state, now: float, h: Harness):  # type: ignore[no-untyped-def]
    """Draw one plausible event given the current state (mostly legal, some illegal on purpose)."""
    agent_ids = sorted(state.agents)
    tracked = state.tracked_calls()
    by_status: dict[AgentStatus, list[str]] = {}
    for aid in agent_ids:
        by_status.setdefault(state.agent_states[aid].status, []).append(aid)
    kinds = ["queue", "queue", "login", "ready", "ready", "pause", "logout", "tick", "skills", "random_agent"]
    if tracked:
        kinds += ["abandon", "callback", "transfer"]
    if by_status.get(AgentStatus.RESERVED):
        kinds += ["answer"] * 4 + ["fail"]
    if by_status.get(AgentStatus.ON_CALL):
        kinds += ["end"] * 3
    if by_status.get(AgentStatus.WRAP_UP):
        kinds += ["wrap_done"]
    kind = draw(st.sampled_from(kinds))
    pick_agent = lambda status: draw(st.sampled_from(by_status.get(status) or agent_ids))  # noqa: E731
    if kind == "queue":
        h.n_calls += 1
        lid = f"c{h.n_calls}"
        return CallQueued(
            lid,
            f"u{h.n_calls}",
            draw(st.sampled_from(QUEUE_NAMES)),
            now,
            skills=draw(st.one_of(st.just(frozenset()), st.frozensets(st.sampled_from(SKILLS), max_size=2))),
            language=draw(st.one_of(st.none(), st.sampled_from(LANGS))),
            priority=draw(st.integers(0, 3)),
            follow_up=draw(st.booleans()),
        )
    if kind == "login":
        return AgentLoggedIn(pick_agent(AgentStatus.LOGGED_OUT), now)
    if kind == "ready":  # mostly agents who can be made ready, sometimes anyone
        pool = by_status.get(AgentStatus.NOT_READY, []) + by_status.get(AgentStatus.WRAP_UP, [])
        return AgentReady(draw(st.sampled_from(pool or agent_ids)), now)
    if kind == "pause":
        return AgentPaused(draw(st.sampled_from(agent_ids)), draw(st.sampled_from(("break", "lunch"))), now)
    if kind == "logout":
        return AgentLoggedOut(draw(st.sampled_from(agent_ids)), now)
    if kind == "skills":
        aid = draw(st.sampled_from(agent_ids))
        old = state.agents[aid]
        skills = draw(st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), max_size=4))
        return AgentSkillsChanged(Agent(aid, skills, old.languages, old.groups), now)
    if kind == "random_agent":  # anything for any agent, often illegal
        aid = draw(st.sampled_from(agent_ids))
        lid = draw(st.sampled_from(sorted(tracked) or ["nope"]))
        return draw(st.sampled_from([CallAnswered(lid, aid, now), OfferFailed(lid, aid, now), WrapUpEnded(aid, now)]))
    if kind in ("abandon", "callback", "transfer"):
        lid = draw(st.sampled_from(sorted(tracked)))
        cls = {"abandon": CallAbandoned, "callback": CallbackRequested, "transfer": CallTransferred}[kind]
        return cls(lid, now)
    if kind in ("answer", "fail"):
        aid = pick_agent(AgentStatus.RESERVED)
        lid = state.agent_states[aid].linkedid
        if kind == "answer":
            return CallAnswered(lid, aid, now)
        return OfferFailed(lid, aid, now, draw(st.sampled_from(("no_answer", "busy", "rejected"))))
    if kind == "end":
        aid = pick_agent(AgentStatus.ON_CALL)
        return AnsweredCallEnded(state.agent_states[aid].linkedid, now, hold_s=draw(st.sampled_from((0.0, 1.0))))
    if kind == "wrap_done":
        return WrapUpEnded(pick_agent(AgentStatus.WRAP_UP), now)
    return None  # tick only
