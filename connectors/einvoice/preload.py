"""Imported once by the sandbox's fork server, so that every child it forks starts with the
PDF stack loaded: pdfplumber, pdfminer, and the CMaps Chinese e-invoices use (STSong and
SimSun text is UniGB-UCS2-H / Adobe-GB1), which pdfminer would otherwise unpickle per child.
Only the fork server imports this; the parent process never parses PDFs."""

from __future__ import annotations

import pdfplumber  # noqa: F401
from pdfminer.cmapdb import CMapDB

import connectors.einvoice.ofd
import connectors.einvoice.readers  # noqa: F401

for _name in ("UniGB-UCS2-H", "UniGB-UTF16-H", "GBK-EUC-H"):
    CMapDB.get_cmap(_name)
CMapDB.get_unicode_map("Adobe-GB1", vertical=False)
