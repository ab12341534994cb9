"""Operations: Prometheus ``/metrics`` (prometheus-client) read live at scrape time.

Metrics (all gauges unless ``_total``):

* ``hotline_ami_connected`` 1/0 -- the AMI login is up (``AmiClient.connected``).
* ``hotline_ami_events_total`` -- AMI events delivered by the pump since start (counter).
* ``hotline_ami_events_per_second`` -- the same over the last 10 s (sampled every second).
* ``hotline_ami_pump_depth`` -- messages received and not yet delivered (``AmiClient.pump_depth``).
* ``hotline_ami_handler_errors_total`` -- subscriber exceptions (counter).
* ``hotline_ami_late_pings_total`` -- Pings answered late on a connection still carrying data (counter;
  Asterisk or hotline starved of CPU).
* ``hotline_ivr_agi_errors``, ``hotline_ivr_keys_dropped`` -- AGI 510/520/garbage replies and type-ahead keys
  dropped (invalid, over the cap, stale) since start (``IvrComponent.gauges``).
* ``hotline_ivr_ami_waits`` -- IVR actions that waited for AMI to reconnect, then were sent
  (``IvrComponent.ami_waits``).
* ``hotline_calls_active`` -- calls in the call model (live ``linkedid`` s).
* ``hotline_waiting_calls{queue}`` -- callers waiting per queue (the floor).
* ``hotline_agents{status}`` -- agents per status.
* ``hotline_outbox_depth``, ``hotline_transcription_backlog``, ``hotline_workers`` -- from the
  :class:`hotline.web.providers.OpsGauges` providers wired in; absent when nothing provides them.
* ``hotline_calendar_days_left`` -- days until the official holiday data ends (alert at <= 60:
  due dates after it are provisional; :class:`hotline.app.calendar_ops.CalendarGauges`).
* ``hotline_wallboard_clients`` -- connected wallboard WebSockets.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hotline.telephony.ami import AmiClient
from hotline.telephony.calls import CallModel
from hotline.web.providers import Floor, OpsGauges

OPS_NAMES = {"outbox_depth": "hotline_outbox_depth", "transcription_backlog": "hotline_transcription_backlog",
             "workers": "hotline_workers", "calendar_days_left": "hotline_calendar_days_left",
             "ivr_agi_errors": "hotline_ivr_agi_errors", "ivr_keys_dropped": "hotline_ivr_keys_dropped",
             "ivr_ami_waits": "hotline_ivr_ami_waits"}


class EventRate:
    """Events per second over a sliding window, from samples of a monotonically growing counter."""

    def __init__(self, window_s: float = 10.0) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, int]] = deque()

    def sample(self, at: float, count: int) -> None:
        """Record ``count`` at monotonic time ``at`` (s)."""
        self._samples.append((at, count))
        while len(self._samples) > 2 and at - self._samples[0][0] > self.window_s:
            self._samples.popleft()

    def per_s(self) -> float:
        if len(self._samples) < 2:
            return 0.0
        (t0, c0), (t1, c1) = self._samples[0], self._samples[-1]
        return (c1 - c0) / (t1 - t0) if t1 > t0 else 0.0


class HotlineCollector(Collector):
    """Reads the live objects at each scrape (no background state except :class:`EventRate`)."""

    def __init__(self, *, ami: AmiClient | None, calls: CallModel | None, floor: Floor,
                 gauges: Sequence[OpsGauges] = (), ws_clients: Callable[[], int] = lambda: 0,
                 rate: EventRate | None = None) -> None:
        self.ami, self.calls, self.floor, self.gauges = ami, calls, floor, gauges
        self.ws_clients = ws_clients
        self.rate = rate or EventRate()

    def sample(self) -> None:
        """Call about once a second (the app's sampler task)."""
        if self.ami is not None:
            self.rate.sample(time.monotonic(), self.ami.stats.events)

    def collect(self) -> Iterator[Metric]:
        ami = self.ami
        yield GaugeMetricFamily("hotline_ami_connected", "AMI login is up", value=int(bool(ami and ami.connected)))
        if ami is not None:
            yield CounterMetricFamily("hotline_ami_events", "AMI events delivered", value=ami.stats.events)
            yield CounterMetricFamily("hotline_ami_handler_errors", "AMI subscriber errors",
                                      value=ami.stats.handler_errors)
            yield GaugeMetricFamily("hotline_ami_pump_depth", "AMI messages not yet delivered", value=ami.pump_depth)
            yield CounterMetricFamily("hotline_ami_late_pings", "AMI Pings answered late on a live connection",
                                      value=ami.stats.late_pings)
        yield GaugeMetricFamily("hotline_ami_events_per_second", "AMI events/s over 10 s", value=self.rate.per_s())
        if self.calls is not None:
            yield GaugeMetricFamily("hotline_calls_active", "live calls (linkedids)",
                                    value=sum(1 for c in self.calls.calls.values() if c.ended_at is None))
        waiting = GaugeMetricFamily("hotline_waiting_calls", "callers waiting", labels=["queue"])
        per_q: dict[str, int] = {q.name: 0 for q in self.floor.queues()}
        for w in self.floor.waiting():
            per_q[w.queue] = per_q.get(w.queue, 0) + 1
        for q, n in sorted(per_q.items()):
            waiting.add_metric([q], n)
        yield waiting
        agents = GaugeMetricFamily("hotline_agents", "agents by status", labels=["status"])
        counts: dict[str, int] = {}
        for a in self.floor.agents():
            counts[a.status.value] = counts.get(a.status.value, 0) + 1
        for st, n in sorted(counts.items()):
            agents.add_metric([st], n)
        yield agents
        seen: dict[str, float] = {}
        for g in self.gauges:
            for k, v in g.gauges().items():
                if k in OPS_NAMES:
                    seen[k] = seen.get(k, 0.0) + float(v)
        for k, v in seen.items():
            yield GaugeMetricFamily(OPS_NAMES[k], k.replace("_", " "), value=v)
        yield GaugeMetricFamily("hotline_wallboard_clients", "wallboard websockets", value=self.ws_clients())


def make_registry(collector: HotlineCollector) -> CollectorRegistry:
    """A private registry (not the process-global one) holding ``collector``."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(collector)
    return reg


def render(registry: CollectorRegistry) -> bytes:
    """The text exposition format."""
    return generate_latest(registry)
