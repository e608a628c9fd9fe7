"""The shared contract suite against the tabular (CSV/Excel profile) and bank statement connectors."""

from pathlib import Path

from connectors.bank.connector import BankStatementConnector
from connectors.tabular.connector import TabularConnector
from connectors.testkit import connector_tests

HERE = Path(__file__).parent / "samples"

TestTabularContract = connector_tests(
    TabularConnector, {"path": str(HERE / "tabular"), "profile": "cmb_debit", "account_no": "6225880000000001"},
    golden=HERE / "tabular.golden.jsonl")

TestBankStatementContract = connector_tests(BankStatementConnector, {"path": str(HERE / "bank_statement")},
                                            golden=HERE / "bank_statement.golden.jsonl")
