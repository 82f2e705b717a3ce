"""One demo run shared by the tests that read a whole run's report and chain (seed 11, 15
loans, 8 borrowers, 4 months: a restructuring, a payoff, a holiday, a forbearance, defaults);
its Anvil stays up until the session ends so they can read the loans it left."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web3 import HTTPProvider, Web3

from loanservicing.chain.node import AnvilNode
from loanservicing.demo.portfolio import DemoConfig, PortfolioDemo
from loanservicing.deployment.compile import ContractArtifact
from tests.demo.recording import DemoRunResult, RecordingReporter

SHARED_RUN = DemoConfig(seed=11, loans=15, months=4, borrowers=8)
"""The shared run's configuration; `loanservicing demo --seed 11 --loans 15 --borrowers 8
--months 4` runs the same."""


@pytest.fixture(scope="session")
def demo_run(artifacts: dict[str, ContractArtifact]) -> Iterator[DemoRunResult]:
    with AnvilNode() as node:
        reporter = RecordingReporter()
        demo = PortfolioDemo(
            Web3(HTTPProvider(node.rpc_url)), SHARED_RUN, reporter, artifacts=artifacts
        )
        yield DemoRunResult(demo, demo.run(), reporter)
