"""The callback offer (pure): when to offer a waiting caller a callback, and what their keys mean.

Who is offered (:func:`offers_due`), checked by the adapter every ``offer_check_s`` against the
routing component's waiting calls (:meth:`hotline.queues.dispatch.Dispatcher.waiting`) and their EWT
(:func:`hotline.queues.routing.position_and_ewt`):

* **EWT threshold**: a waiting call whose EWT is ``>= offer_ewt_s`` seconds. An EWT of None
  (no agent holding the call's skills is staffed) counts as infinite: offered.
* **Maximum wait**: the routing core's :class:`hotline.queues.routing.OfferCallback` (``max_wait_s`` with
  ``max_wait_action: callback``) offers it whatever the EWT.
* **On demand**: the caller pressed the hold key (the dialplan's ``hotline-hold``
  extension ``7``): offered if still waiting.

A call is offered at most once automatically (EWT or maximum wait); on demand as often as the
caller asks, but never while an offer is running for it, and never while an agent rings for it
(only calls in ``waiting()`` qualify).

What the keys mean (:func:`on_key`, :func:`on_number`), one session per offer:

* ``1``: call me back at this number: the calling number (``CALLERID(num)``), if it is a valid
  mainland number (:func:`hotline.callbacks.numbers.parse_number`); else the caller is asked to key one in;
* ``2``: call me back at another number: keyed in, ended by ``#``; an invalid number is asked
  again once (``max_invalid_numbers`` = 2 tries in all), then the caller keeps waiting;
* anything else, or no key within the timeout: keep waiting (back to ``hotline-hold``; the place
  in line was never lost: the call stays in routing while the offer runs).

Race with a free agent (decided: **bridge anyway**): the call stays in routing during the offer,
so an agent who becomes free is offered it as usual; the agent leg's ``Bridge()`` pulls the caller
out of the offer's dialplan into the bridge. The offer session then ends without a decision
(its key events never come, and the session is dropped when the call leaves ``waiting()``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from typing import Literal

from hotline.callbacks.numbers import NumberRejected, parse_number
from hotline.queues.model import WaitingCall

OfferTrigger = Literal["ewt", "max_wait", "demand"]


@dataclass(frozen=True, slots=True)
class OfferSession:
    """One running offer.

    Attributes:
        linkedid: the call (routing key).
        uniqueid: the caller's leg (AMI ``Redirect`` target; the ``UserEvent`` Uniqueid).
        calling_number: ``CALLERID(num)`` of the caller leg (may be invalid or withheld).
        trigger: why the offer was made.
        started_at: epoch s.
        invalid_numbers: numbers keyed in so far that were rejected.
        step: ``menu`` (waiting for 1/2) or ``number`` (waiting for digits + ``#``).
    """

    linkedid: str
    uniqueid: str
    calling_number: str
    trigger: OfferTrigger
    started_at: float
    invalid_numbers: int = 0
    step: Literal["menu", "number"] = "menu"


# --- decisions (what the adapter does next) ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AcceptCallback:
    """The caller accepted: store the request for ``number`` (national digits), confirm, hang up."""

    number: str


@dataclass(frozen=True, slots=True)
class AskNumber:
    """Ask the caller to key in a number (``invalid``: say the last one was not valid first)."""

    invalid: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True)
class KeepWaiting:
    """Back to music on hold in ``hotline-hold``; the place in line is unchanged."""

    reason: str


Decision = AcceptCallback | AskNumber | KeepWaiting


def offers_due(
    waiting: Iterable[WaitingCall],
    ewt_s: Callable[[str], float | None],
    *,
    offer_ewt_s: float | None,
    offered: Collection[str],
    in_offer: Collection[str],
    excluded: Collection[str] = (),
) -> list[str]:
    """Linkedids of waiting calls whose EWT passed the threshold and were never offered.

    Args:
        waiting: the routing core's waiting calls (not those an agent rings for).
        ewt_s: linkedid -> EWT seconds (:func:`hotline.queues.routing.position_and_ewt`), None = no agent.
        offer_ewt_s: the threshold in seconds; None disables EWT offers.
        offered: linkedids already offered automatically (once per call).
        in_offer: linkedids whose offer runs now.
        excluded: linkedids never offered (a citizen being called back).
    Returns:
        Linkedids in arrival order.
    """
    if offer_ewt_s is None:
        return []
    due = []
    for call in sorted(waiting, key=lambda c: (c.enqueued_at, c.seq)):
        lid = call.linkedid
        if lid in offered or lid in in_offer or lid in excluded:
            continue
        ewt = ewt_s(lid)
        if ewt is None or ewt >= offer_ewt_s:
            due.append(lid)
    return due


def may_offer(linkedid: str, waiting_ids: Collection[str], in_offer: Collection[str],
              excluded: Collection[str] = ()) -> bool:
    """An offer (maximum wait or on demand) can start: the call waits, no offer runs, not a call-back."""
    return linkedid in waiting_ids and linkedid not in in_offer and linkedid not in excluded


def on_key(session: OfferSession, key: str) -> tuple[OfferSession, Decision]:
    """The caller's key in the offer menu (``UserEvent HotlineCallbackOffer`` ``Stage: key``).

    Args:
        key: the digit read (``Key`` header; empty on timeout).
    """
    if key == "1":
        parsed = parse_number(session.calling_number)
        if isinstance(parsed, NumberRejected):
            return replace(session, step="number"), AskNumber(reason=f"calling number: {parsed.reason}")
        return session, AcceptCallback(parsed.number)
    if key == "2":
        return replace(session, step="number"), AskNumber()
    return session, KeepWaiting("timeout" if not key else f"key {key}")


def on_number(session: OfferSession, digits: str, *, max_invalid_numbers: int = 2) -> tuple[OfferSession, Decision]:
    """Digits keyed in after ``2`` (``Stage: number``, ``Number`` header, ``#`` already stripped by Read).

    Returns:
        AcceptCallback for a valid mainland number; AskNumber(invalid=True) for the first
        ``max_invalid_numbers - 1`` invalid ones; then KeepWaiting (the caller stays queued).
    """
    parsed = parse_number(digits)
    if not isinstance(parsed, NumberRejected):
        return session, AcceptCallback(parsed.number)
    tried = replace(session, invalid_numbers=session.invalid_numbers + 1)
    if tried.invalid_numbers >= max_invalid_numbers:
        return tried, KeepWaiting(f"invalid number twice: {parsed.reason}")
    return tried, AskNumber(invalid=True, reason=parsed.reason)
