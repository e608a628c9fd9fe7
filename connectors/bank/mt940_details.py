"""MT940 text handling: decoding a file's bytes and reading the :86: details field.

Decoding is explicit: strict UTF-8, then the configured fallback code page, also strict;
bytes that neither can decode make the file a problem, never silently dropped or replaced.

The :86: field comes in three shapes. German SEPA (DFÜ/DK) subfields, lines broken every
27 characters and joined back without a separator:

    >>> d = parse_details("166?00GUTSCHRIFT?20EREF+E1 SVWZ+Rech?21nung 42?30GENODEF1?31DE0212"
    ...                   "3?32ACME Gm?33bH")
    >>> d.counterparty, d.counterparty_account, d.remittance
    ('ACME GmbH', 'DE02123', 'EREF+E1 SVWZ+Rechnung 42')

Slash keywords (ABN AMRO, ING, Rabobank), and free text, kept whole with its line breaks:

    >>> parse_details("/TRTP/SEPA/IBAN/NL91ABNA0417164300/NAME/J DOE/REMI/Inv 7/EREF/E9")
    Details(counterparty='J DOE', counterparty_account='NL91ABNA0417164300', remittance='Inv 7')
    >>> parse_details("RC AFREKENING\\nING tarifering").remittance
    'RC AFREKENING\\nING tarifering'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SUBFIELD = re.compile(r"\?(\d\d)")
_GERMAN = re.compile(r"^\d{3}\?\d\d")
_KEYS = ("TRTP", "IBAN", "BIC", "NAME", "REMI", "EREF", "ORDP", "BENM", "CSID", "MARF", "ACCW",
         "ID", "ADDR", "PREF", "RTRN", "ISDT", "CNTP", "ULTC", "ULTD", "ULTB", "PURP", "SVCL",
         "USTD", "STRD", "CDTRREFTP", "CDTRREF", "CD", "ISSR", "CITY", "NRTX", "PRTY")
_KEYWORD = re.compile(r"/(" + "|".join(_KEYS) + r")/")
_REMITTANCE_KEYS = (*range(20, 30), *range(60, 64))


class UndecodableFile(ValueError):
    """The bytes are neither UTF-8 nor the configured fallback encoding."""


def decode(data: bytes, fallback: str) -> tuple[str, str]:
    """The text and the name of the encoding that decoded it, strictly."""
    for encoding in dict.fromkeys(("utf-8-sig", fallback)):
        try:
            return data.decode(encoding, errors="strict"), encoding
        except UnicodeDecodeError as error:
            last = error
    raise UndecodableFile(f"not valid UTF-8 nor {fallback}: byte {data[last.start]:#04x} at "
                          f"offset {last.start} cannot be decoded; set the connector's "
                          f"'encoding_fallback' to the bank's code page")


@dataclass(frozen=True, slots=True, kw_only=True)
class Details:
    counterparty: str = ""
    counterparty_account: str = ""
    remittance: str = ""


def parse_details(text: str) -> Details:
    if _GERMAN.match(text):
        return _german(text.replace("\n", ""))
    flat = text.replace("\n", "")
    if flat.startswith("/") and _KEYWORD.match(flat):
        return _keywords(flat)
    return Details(remittance=text.strip())


def _german(flat: str) -> Details:
    parts = _SUBFIELD.split(flat)
    subfields: dict[int, str] = {}
    for code, value in zip(parts[1::2], parts[2::2], strict=True):
        subfields[int(code)] = subfields.get(int(code), "") + value
    remittance = "".join(subfields.get(code, "") for code in _REMITTANCE_KEYS).strip()
    return Details(counterparty=(subfields.get(32, "") + subfields.get(33, "")).strip(),
                   counterparty_account=subfields.get(31, "").strip(),
                   remittance=remittance or subfields.get(0, "").strip())


def _keywords(flat: str) -> Details:
    parts = _KEYWORD.split(flat)
    values: dict[str, str] = {}
    for key, value in zip(parts[1::2], parts[2::2], strict=True):
        values.setdefault(key, value.strip("/").strip())
    counterparty = values.get("NAME", "")
    account = values.get("IBAN") or values.get("ACCW", "")
    if "CNTP" in values:  # /CNTP/account/bic/name/city/
        cntp = [*values["CNTP"].split("/"), "", "", ""]
        account = account or cntp[0]
        counterparty = counterparty or cntp[2]
    remittance = values.get("REMI") or values.get("USTD") or values.get("STRD", "")
    return Details(counterparty=counterparty, counterparty_account=account,
                   remittance=remittance or values.get("EREF", ""))
