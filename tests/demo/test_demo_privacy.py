"""A whole demo run (loans, months of repayments, the monitor, then attestations, consents,
vault reads and an erasure) puts none of the borrowers' personal values on chain: the scan of
every transaction's calldata and every log finds none of them, as text or as hex."""

from __future__ import annotations

from web3 import HTTPProvider, Web3

from loanservicing.chain.node import AnvilNode
from loanservicing.demo.data_sharing import personal_values
from loanservicing.demo.portfolio import DemoConfig, PortfolioDemo
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.sharing.privacy_scan import scan_chain


def test_a_whole_demo_run_puts_no_personal_value_on_chain(
    artifacts: dict[str, ContractArtifact],
) -> None:
    with AnvilNode() as node:
        w3 = Web3(HTTPProvider(node.rpc_url))
        config = DemoConfig(seed=11, loans=8, months=2, borrowers=4)
        report = PortfolioDemo(w3, config, artifacts=artifacts, monitor=False).run()
        assert report.summary.loans == 8
        assert any("was erased" in line for line in report.shared)
        assert any(" read the income data of " in line for line in report.shared)
        values = personal_values()
        result = scan_chain(w3, values)
        assert result.transactions > 50 and result.logs > 100
        assert result.findings == []
        # The scan does find what is there: the test token's name is in its deployment.
        control = scan_chain(w3, ["Test USD"])
        assert control.findings
