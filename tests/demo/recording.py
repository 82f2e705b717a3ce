"""What the demo's tests keep of a run: a Reporter that records what it is told (the demo
knows nothing of rich), and the shared run's demo, report and reporter."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from loanservicing.demo.portfolio import DemoReport, PortfolioDemo


class RecordingReporter:
    def __init__(self) -> None:
        self.phases: list[str] = []
        self.events: list[tuple[str, str]] = []
        self.days: list[int] = []
        self.closed = False

    def phase(self, text: str) -> None:
        self.phases.append(text)

    def event(self, text: str, tone: str = "") -> None:
        self.events.append((text, tone))

    def day(self, day: int, total: int, now: int, counts: Counter[str]) -> None:
        self.days.append(day)

    def close(self) -> None:
        self.closed = True


@dataclass(frozen=True)
class DemoRunResult:
    """The shared run (the ``demo_run`` fixture): the demo, with its loans and servicer on
    the Anvil that is still up, its report and what it reported."""

    demo: PortfolioDemo
    report: DemoReport
    reporter: RecordingReporter
