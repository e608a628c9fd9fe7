"""Finding connector classes by name: built-ins, entry points (group ``yecai.connectors``,
so a connector can ship as its own pip package) and ``module:Class`` import paths."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from connectors.contract import Connector
from connectors.errors import FatalError

ENTRY_POINT_GROUP = "yecai.connectors"

BUILTIN: dict[str, str] = {
    "dropfolder": "connectors.dropfolder.connector:DropFolderConnector",
    "bank_statement": "connectors.bank.connector:BankStatementConnector",
    "einvoice": "connectors.einvoice.connector:EInvoiceConnector",
    "rest": "connectors.rest.connector:RestConnector",
    "tabular": "connectors.tabular.connector:TabularConnector",
}


def _import(path: str) -> type:
    module_name, _, attribute = path.partition(":")
    if not attribute:
        raise FatalError(f"connector type {path!r}: expected a built-in name "
                         f"({', '.join(sorted(BUILTIN))}), an entry point or 'module:Class'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise FatalError(f"connector type {path!r}: cannot import {module_name} ({error})") from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise FatalError(f"connector type {path!r}: {module_name} has no {attribute}") from None


def _load(entry) -> type:
    try:
        return entry.load()
    except (ImportError, AttributeError) as error:
        raise FatalError(f"connector type {entry.name!r}: its entry point {entry.value!r} (group "
                         f"{ENTRY_POINT_GROUP}) does not load: {error}; reinstall the package that "
                         f"provides it") from None


def available() -> dict[str, str]:
    """Every connector name this installation knows, with where it comes from."""
    names = dict(BUILTIN)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        names.setdefault(entry.name, entry.value)
    return names


def resolve(name: str) -> type[Connector]:
    if name in BUILTIN:
        cls = _import(BUILTIN[name])
    else:
        matches = [e for e in entry_points(group=ENTRY_POINT_GROUP) if e.name == name]
        cls = _load(matches[0]) if matches else _import(name)
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise FatalError(f"connector type {name!r} is {cls!r}, not a Connector subclass")
    return cls
