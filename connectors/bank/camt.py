"""ISO 20022 camt.052 / camt.053 / camt.054 (versions 001.01 to 001.08) into ``BankTransaction``s.

One transaction per ``Ntry`` (what hit the account); ``NtryDtls/TxDtls`` give the counterparty
(``Dbtr`` for credits, ``Cdtr`` for debits, with or without the v8 ``Pty`` wrapper; the
ultimate one, ``UltmtDbtr`` / ``UltmtCdtr``, when that is all there is), its
account (IBAN or Othr/Id) and the remittance (``Ustrd`` joined, then ``Strd/CdtrRefInf/Ref``).
Namespaces are ignored, so every version reads the same. A worked example:

    >>> xml = b'''<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
    ... <BkToCstmrStmt><Stmt><Id>S1</Id><Acct><Id><IBAN>NL01</IBAN></Id></Acct>
    ... <Ntry><Amt Ccy="EUR">8.850</Amt><CdtDbtInd>DBIT</CdtDbtInd>
    ... <BookgDt><DtTm>2026-12-31T12:15:00</DtTm></BookgDt><AcctSvcrRef>R1</AcctSvcrRef>
    ... <NtryDtls><TxDtls><RltdPties><Cdtr><Pty><Nm>ACME</Nm></Pty></Cdtr></RltdPties>
    ... <RmtInf><Ustrd>INV 7</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry></Stmt></BkToCstmrStmt>
    ... </Document>'''
    >>> txn = parse_camt(xml, "s.xml").transactions[0]
    >>> txn.txn_id, txn.amount, txn.booking_date.isoformat(), txn.counterparty, txn.remittance
    ('R1', Money('-8.85', 'EUR'), '2026-12-31', 'ACME', 'INV 7')

Amounts: trailing zeros past the currency's minor unit are exact and accepted (8.850 EUR);
any other digit there (8.855 EUR) makes the entry a ``BadInput``, never rounded.
Ids: ``AcctSvcrRef``, else ``NtryRef``, else a hash of the normalised fields plus the
occurrence index among identical entries (``statement.assign_ids``).
The XML is read with ``xmlread``: defusedxml's protections (no DTD, so no entity expansion,
no external references, no network) on expat directly, building only the elements read here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException

from connectors.bank.statement import ParsedFile, Statement, TxnFields, assign_ids, check_balances
from connectors.bank.xmlread import LEAF, XmlError, read_pruned
from ledger.documents import BankTransaction
from ledger.errors import BadInput, FieldError
from ledger.money import Money, MoneyError

_RECORDS = ("Stmt", "Rpt", "Ntfctn")
_OPENING = ("OPBD", "PRCD")
# What is read, by local name (see ``xmlread``): everything else is never built.
_DATE = {"Dt": LEAF, "DtTm": LEAF}
_PARTY = {"Nm": LEAF, "Pty": {"Nm": LEAF}}
_ACCOUNT = {"Id": {"IBAN": LEAF, "Othr": {"Id": LEAF}}}
_DETAILS = {"RltdPties": {"Dbtr": _PARTY, "Cdtr": _PARTY, "DbtrAcct": _ACCOUNT,
                          "CdtrAcct": _ACCOUNT, "UltmtDbtr": _PARTY, "UltmtCdtr": _PARTY},
            "RmtInf": {"Ustrd": LEAF, "Strd": {"CdtrRefInf": {"Ref": LEAF}}}}
_ENTRY = {"Amt": LEAF, "CdtDbtInd": LEAF, "BookgDt": _DATE, "ValDt": _DATE, "AcctSvcrRef": LEAF,
          "NtryRef": LEAF, "AddtlNtryInf": LEAF, "NtryDtls": {"TxDtls": _DETAILS}}
_BALANCE = {"Tp": {"CdOrPrtry": {"Cd": LEAF}}, "Amt": LEAF, "CdtDbtInd": LEAF}
_RECORD = {"Id": LEAF, "Acct": {"Id": {"IBAN": LEAF, "Othr": {"Id": LEAF},
                                      "PrtryAcct": {"Id": LEAF}}},
           "Bal": _BALANCE, "Ntry": _ENTRY}
_SPEC = {"*": dict.fromkeys(_RECORDS, _RECORD)}  # Document / any message / Stmt, Rpt, Ntfctn


def _children(element: Element | None, name: str) -> Iterator[Element]:
    return iter(element.findall(name)) if element is not None else iter(())


def _find(element: Element | None, *path: str) -> Element | None:
    for name in path:
        if element is None:
            return None
        element = element.find(name)
    return element


def _text(element: Element | None, *path: str) -> str:
    found = _find(element, *path)
    return (found.text or "").strip() if found is not None else ""


def parse_camt(data: bytes, file: str) -> ParsedFile:
    problems: list[BadInput] = []
    try:
        root = read_pruned(data, _SPEC)
    except (XmlError, DefusedXmlException, ValueError, LookupError) as error:
        problem = BadInput(file=file, row=None, field=None, message=f"camt: not readable XML: {error}")
        return ParsedFile(file=file, format="camt", encoding="xml", statements=(), problems=(problem,))
    records = [record for message in root for record in message]
    if not records:
        problems.append(BadInput(file=file, row=None, field=None,
                                 message=f"camt: no Stmt, Rpt or Ntfctn under <{root.tag}>"))
    pending: list[tuple[int, str, TxnFields | None, str | None]] = []
    heads: list[tuple[str, str, Money | None, Money | None]] = []
    for index, record in enumerate(records):
        reference = _text(record, "Id") or f"#{index + 1}"
        account = (_text(record, "Acct", "Id", "IBAN") or _text(record, "Acct", "Id", "Othr", "Id")
                   or _text(record, "Acct", "Id", "PrtryAcct", "Id"))
        if not account:
            problems.append(BadInput(file=file, row=None, field="Acct",
                                     message=f"camt: statement {reference!r} names no account"))
            continue
        opening, closing = _balances(record, reference, file, problems)
        heads.append((reference, account, opening, closing))
        for number, entry in enumerate(_children(record, "Ntry"), start=1):
            try:
                fields = _entry(entry, account)
                preferred = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef") or None
                pending.append((len(heads) - 1, reference, fields, preferred))
            except FieldError as error:
                pending.append((len(heads) - 1, reference, None, None))
                problems.append(BadInput(file=file, row=None, field=error.field,
                                         message=f"statement {reference!r}, entry {number}: "
                                                 f"found {error.found!r}, expected {error.expected}"))
    ids = iter(assign_ids([(p[3], p[2]) for p in pending if p[2] is not None]))
    by_statement: list[list[BankTransaction]] = [[] for _ in heads]
    complete = [True for _ in heads]
    for head, reference, fields, _preferred in pending:
        if fields is None:
            complete[head] = False
            continue
        txn_id = next(ids)
        try:
            by_statement[head].append(fields.transaction(txn_id))
        except FieldError as error:
            complete[head] = False
            problems.append(BadInput(file=file, row=None, field=error.field,
                                     message=f"statement {reference!r}, entry {txn_id}: "
                                             f"found {error.found!r}, expected {error.expected}"))
    statements = [Statement(reference=ref, account_no=account, row=None, opening=opening,
                            closing=closing, transactions=tuple(txns), complete=ok)
                  for (ref, account, opening, closing), txns, ok in zip(heads, by_statement, complete,
                                                                        strict=True)]
    problems.extend(check_balances(file, statements))
    return ParsedFile(file=file, format="camt", encoding="xml", statements=tuple(statements),
                      problems=tuple(problems))


def _money(element: Element | None, field: str) -> Money:
    if element is None:
        raise FieldError(field, None, "an amount with a Ccy attribute")
    currency = element.get("Ccy", "")
    try:
        money = Money(Decimal((element.text or "").strip()), currency)
    except (InvalidOperation, MoneyError):
        raise FieldError(field, f"{element.text} {currency}", "a decimal amount and an ISO 4217 "
                         "currency") from None
    if not money.is_exact():
        raise FieldError(field, f"{element.text} {currency}",
                         f"at most {-money.exponent.as_tuple().exponent} decimals for {currency} "
                         f"(the amount is not rounded)")
    return Money(money.amount.quantize(money.exponent), currency)


def _signed(container: Element, field: str) -> Money:
    money = _money(_find(container, "Amt"), field)
    indicator = _text(container, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise FieldError("CdtDbtInd", indicator, "CRDT or DBIT")
    return -money if indicator == "DBIT" else money


def _date(element: Element | None) -> date | None:
    text = _text(element, "Dt") or _text(element, "DtTm")[:10]
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise FieldError("BookgDt", text, "an ISO date YYYY-MM-DD") from None


def _balances(record: Element, reference: str, file: str,
              problems: list[BadInput]) -> tuple[Money | None, Money | None]:
    opening = closing = None
    for balance in _children(record, "Bal"):
        code = _text(balance, "Tp", "CdOrPrtry", "Cd")
        if code in (*_OPENING, "CLBD"):
            try:
                money = _signed(balance, "Bal")
            except FieldError as error:
                problems.append(BadInput(file=file, row=None, field="Bal",
                                         message=f"statement {reference!r}, balance {code}: "
                                                 f"found {error.found!r}, expected {error.expected}"))
                continue
            if code == "CLBD":
                closing = money
            else:
                opening = money
    return opening, closing


def _entry(entry: Element, account: str) -> TxnFields:
    amount = _signed(entry, "Amt")
    booking = _date(_find(entry, "BookgDt"))
    value = _date(_find(entry, "ValDt"))
    if booking is None and value is None:
        raise FieldError("BookgDt", None, "a booking date (BookgDt/Dt or DtTm) or value date")
    side = "Dbtr" if amount.amount > 0 else "Cdtr"
    names: list[str] = []
    accounts: list[str] = []
    remittances: list[str] = []
    for details in _children(_find(entry, "NtryDtls"), "TxDtls"):
        parties = _find(details, "RltdPties")
        name = (_text(parties, side, "Nm") or _text(parties, side, "Pty", "Nm")
                or _text(parties, "Ultmt" + side, "Nm") or _text(parties, "Ultmt" + side, "Pty", "Nm"))
        iban = _text(parties, side + "Acct", "Id", "IBAN")
        other = _text(parties, side + "Acct", "Id", "Othr", "Id")
        remittance = _find(details, "RmtInf")
        texts = [(u.text or "").strip() for u in _children(remittance, "Ustrd")]
        texts += [_text(s, "CdtrRefInf", "Ref") for s in _children(remittance, "Strd")]
        for bucket, item in ((names, name), (accounts, iban or other)):
            if item and item not in bucket:
                bucket.append(item)
        remittances.extend(text for text in texts if text)
    return TxnFields(account_no=account, booking_date=booking or value, value_date=value or booking,
                     amount=amount, counterparty="; ".join(names),
                     counterparty_account="; ".join(accounts),
                     remittance=" ".join(remittances) or _text(entry, "AddtlNtryInf"))
