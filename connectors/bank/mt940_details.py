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
from typing import NamedTuple

_SUBFIELD = {"?": re.compile(r"\?(\d\d)"), ">": re.compile(r">(\d\d)")}
_GERMAN = re.compile(r"^\d{3}[?>]\d\d")
_KEYS = ("TRTP", "IBAN", "BIC", "NAME", "REMI", "EREF", "ORDP", "BENM", "CSID", "MARF", "ACCW",
         "ID", "ADDR", "PREF", "RTRN", "ISDT", "CNTP", "ULTC", "ULTD", "ULTB", "PURP", "SVCL",
         "USTD", "STRD", "CDTRREFTP", "CDTRREF", "CD", "ISSR", "CITY", "NRTX", "PRTY")
_KEYWORD = re.compile(r"/(" + "|".join(_KEYS) + r")/")
_REMITTANCE_CODES = tuple(f"{code:02d}" for code in (*range(20, 30), *range(60, 64)))  # in order


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


class Details(NamedTuple):
    counterparty: str = ""
    counterparty_account: str = ""
    remittance: str = ""


NO_DETAILS = Details()


def parse_details(text: str) -> Details:
    start = text.lstrip()
    if _GERMAN.match(start):
        return _german(start.replace("\n", ""), start[3])
    flat = text.replace("\n", "")
    if flat.startswith("/") and _KEYWORD.match(flat):
        return _keywords(flat)
    return Details(remittance=text.strip())


def _german(flat: str, separator: str) -> Details:
    """Subfields by code (a repeated code continues its value); the remittance is ?20-?29
    and ?60-?63 in code order, else the posting text ?00; the name ?32 + ?33, the account ?31.
    Some banks (Triodos) write ``>`` where the others write ``?``."""
    parts = _SUBFIELD[separator].split(flat)
    codes, values = parts[1::2], parts[2::2]
    subfields = dict(zip(codes, values, strict=True))
    if len(subfields) < len(codes):  # a code repeats: its values join
        subfields = {}
        for code, value in zip(codes, values):
            subfields[code] = subfields[code] + value if code in subfields else value
    remittance = "".join([subfields[code] for code in _REMITTANCE_CODES
                          if code in subfields]).strip()
    get = subfields.get
    return Details((get("32", "") + get("33", "")).strip(), get("31", "").strip(),
                   remittance or get("00", "").strip())


def _keywords(flat: str) -> Details:
    """The first value of each keyword; the counterparty NAME (else CNTP's name), the account
    IBAN (else ACCW, else CNTP's account), the remittance REMI, USTD, STRD, else EREF."""
    parts = _KEYWORD.split(flat)
    values = dict(zip(parts[-2::-2], parts[::-2]))  # from the end, so the first one wins
    get = values.get
    counterparty = get("NAME", "").strip("/").strip()
    account = get("IBAN", "").strip("/").strip() or get("ACCW", "").strip("/").strip()
    if "CNTP" in values:  # /CNTP/account/bic/name/city/
        cntp = [*values["CNTP"].strip("/").strip().split("/"), "", "", ""]
        account = account or cntp[0]
        counterparty = counterparty or cntp[2]
    remittance = (get("REMI", "").strip("/").strip() or get("USTD", "").strip("/").strip()
                  or get("STRD", "").strip("/").strip() or get("EREF", "").strip("/").strip())
    return Details(counterparty, account, remittance)
