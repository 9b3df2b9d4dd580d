"""Prometheus metrics of one service: one registry per runtime (several may share a process)."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """Named instruments, created on first use and shared after (handlers ask by name)."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        self._counters: dict[str, Counter] = {}
        self._gauges: dict[str, Gauge] = {}
        self._histograms: dict[str, Histogram] = {}
        self.published = self.counter(
            "helpdesk_messages_published",
            "Messages this service published (confirmed by the broker), by routing key.",
            ("routing_key",),
        )

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        if name not in self._counters:
            self._counters[name] = Counter(
                name, documentation, labelnames=labels, registry=self.registry
            )
        return self._counters[name]

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        if name not in self._gauges:
            self._gauges[name] = Gauge(
                name, documentation, labelnames=labels, registry=self.registry
            )
        return self._gauges[name]

    def histogram(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Histogram:
        if name not in self._histograms:
            self._histograms[name] = Histogram(
                name, documentation, labelnames=labels, registry=self.registry
            )
        return self._histograms[name]
