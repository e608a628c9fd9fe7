"""The shared contract suite against the drop-folder connector and its sample."""

from pathlib import Path

from connectors.dropfolder.connector import DropFolderConnector
from connectors.testkit import connector_tests

HERE = Path(__file__).parent / "samples"

TestDropFolderContract = connector_tests(DropFolderConnector, {"path": str(HERE / "dropfolder")},
                                         golden=HERE / "dropfolder.golden.jsonl")
