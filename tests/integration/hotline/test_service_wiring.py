"""The composition root wires every default component without starting anything."""

from __future__ import annotations

import pytest

from hotline.app.config import Settings
from hotline.app.service import Service
from hotline.kernel.subscribers import AlreadyConnected


def test_given_default_settings_when_service_built_then_every_enabled_component_is_wired() -> None:
    settings = Settings()
    service = Service(settings, event_log=False)
    names = [type(c).__name__ for c in service.components]
    assert names.index("Routing") < names.index("IvrComponent")  # routing is up before callers arrive
    assert "Recorder" in names and "CallbacksComponent" in names and "WebComponent" in names
    assert service.callbacks is not None and service.routing is not None


def test_given_callbacks_on_when_service_built_then_routing_subscriptions_reach_the_dialler_and_the_offers() -> None:
    service = Service(Settings(), event_log=False)
    dispatcher = service.routing.dispatcher
    callbacks = service.callbacks
    # agent-first callbacks dial the citizen once routing reports the agent answered
    assert list(dispatcher.answered) == [callbacks.dialler.on_agent_answered]
    # the core's maximum-wait OfferCallback reaches the callback offer
    assert callbacks.offers is not None and list(dispatcher.offer_callback) == [callbacks.offers.on_offer_callback]
    # the wallboard floor is pushed by routing's change notification
    assert len(dispatcher.changed) == 1


def test_given_ticketing_and_callbacks_when_service_built_then_sla_cards_and_closed_work_orders_reach_callbacks(
        ) -> None:
    settings = Settings.model_validate({"ticketing": {"enabled": True}})
    service = Service(settings, event_log=False)
    ticketing, callbacks = service.ticketing, service.callbacks
    assert ticketing is not None and callbacks is not None
    if ticketing.monitor is not None:
        assert list(ticketing.monitor.cards) == [callbacks.dialler.on_sla_card]


def test_given_calendar_file_when_service_built_then_one_calendar_reaches_ivr_sla_and_dialler(tmp_path) -> None:
    from hotline.kernel.calendar import FILE

    (tmp_path / "cal.yaml").write_text("years:\n  2027:\n    holidays:\n      2027-01-01: 元旦\n", encoding="utf-8")
    settings = Settings.model_validate({"calendar": {"file": str(tmp_path / "cal.yaml")},
                                        "ticketing": {"enabled": True}})
    service = Service(settings, event_log=False)
    calendar = service.calendar
    assert calendar.year(2027).source == FILE
    assert service.ivr is not None and service.ivr.menus.calendar is calendar  # schedule nodes
    ticketing = next(c for c in service.components if type(c).__name__ == "Ticketing")
    assert ticketing.work_orders.policy.calendar is calendar  # SLA due dates
    assert ticketing.monitor is None or ticketing.monitor.policy.calendar is calendar
    assert service.callbacks is not None
    assert service.callbacks.dialler.policy.calendar is calendar  # calling windows and retries
    assert service.callbacks.api.policy.calendar is calendar


def test_given_ivr_and_routing_when_service_built_then_every_ivr_session_reaches_statistics_and_call_facts() -> None:
    service = Service(Settings(), event_log=False)
    assert service.ivr is not None and service.routing is not None
    assert service.ivr.listeners == [service.routing.ivr_session, service.facts.ivr_session]
    assert service.routing.node_kind is not None
    with pytest.raises(AlreadyConnected):  # a one-time late binding
        service.routing.connect_node_kind(lambda menu_id, node_id: None)
