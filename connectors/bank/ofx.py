"""OFX 1.x (SGML) and 2.x (XML) bank and credit card statements into ``BankTransaction``s.

A worked example: an OFX 1.02 checking statement with one debit. Leaf tags such as
``<TRNAMT>`` are not closed in SGML; ``ofx_sgml.tree`` closes them:

    >>> sgml = b'''OFXHEADER:100
    ... DATA:OFXSGML
    ... VERSION:102
    ... ENCODING:USASCII
    ... CHARSET:1252
    ...
    ... <OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STMTRS><CURDEF>USD
    ... <BANKACCTFROM><BANKID>121000248<ACCTID>4455<ACCTTYPE>CHECKING</BANKACCTFROM>
    ... <BANKTRANLIST><STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20261231120000[-5:EST]
    ... <TRNAMT>-25.03<FITID>F1<NAME>ACME<MEMO>INV 7</STMTTRN></BANKTRANLIST>
    ... <LEDGERBAL><BALAMT>74.97<DTASOF>20261231</LEDGERBAL></STMTRS></STMTTRNRS>
    ... </BANKMSGSRSV1></OFX>'''
    >>> parsed = parse_ofx(sgml, "s.ofx")
    >>> txn = parsed.transactions[0]
    >>> txn.txn_id, txn.booking_date.isoformat(), txn.amount, txn.counterparty, txn.remittance
    ('F1', '2026-12-31', Money('-25.03', 'USD'), 'ACME', 'INV 7')
    >>> parsed.encoding, parsed.statements[0].closing, parsed.problems
    ('cp1252', Money('74.97', 'USD'), ())

Dates: the date part of ``DTPOSTED`` (booking) and ``DTAVAIL`` (value, else the booking
date) as written, in the time zone the bank wrote it in (``[-5:EST]`` is not converted).
Amounts: ``TRNAMT`` signed, exact to the currency's minor unit; ``CURRENCY/CURSYM`` names
the amount's currency, ``ORIGCURRENCY`` only where it came from (the amount is in
``CURDEF``). Ids: ``FITID`` (``.2``… on repeats), else ``statement.assign_ids``' hash.
OFX states no opening balance, so ``LEDGERBAL`` only chains statements of an account.
Bytes are decoded strictly as the header (or XML declaration) says.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element

from connectors.bank.ofx_sgml import OfxError, read_tree
from connectors.bank.statement import ParsedFile, Statement, TxnFields, assign_ids, check_balances
from ledger.documents import BankTransaction
from ledger.errors import BadInput, FieldError
from ledger.money import Money, MoneyError

_DATE = re.compile(r"^\d{8}(\d{4}(\d{2}(\.\d{1,3})?)?)?(\[[+-]?\d{1,2}(\.\d\d)?(:[A-Za-z]{1,9})?\])?$")
_STATEMENTS = (("BANKMSGSRSV1", "STMTTRNRS", "STMTRS", "BANKACCTFROM"),
               ("CREDITCARDMSGSRSV1", "CCSTMTTRNRS", "CCSTMTRS", "CCACCTFROM"))


def _find(element: Element | None, *path: str) -> Element | None:
    for name in path:
        if element is None:
            return None
        element = element.find(name)
    return element


def _text(element: Element | None, *path: str) -> str:
    found = _find(element, *path)
    return (found.text or "").strip() if found is not None else ""


def parse_ofx(data: bytes, file: str) -> ParsedFile:
    try:
        root, encoding = read_tree(data)
    except OfxError as error:
        problem = BadInput(file=file, row=None, field=None, message=f"OFX: {error}")
        return ParsedFile(file=file, format="ofx", encoding="", statements=(), problems=(problem,))
    problems: list[BadInput] = []
    heads: list[tuple[str, str, str, Money | None]] = []
    pending: list[tuple[int, int, TxnFields | None, str | None]] = []
    for messages, wrapper, name, account_tag in _STATEMENTS:
        for number, response in enumerate(_children(root, messages, wrapper), start=1):
            reference = _text(response, "TRNUID") or f"{wrapper} {number}"
            statement = response.find(name)
            if statement is None:
                status = f"{_text(response, 'STATUS', 'CODE')} {_text(response, 'STATUS', 'MESSAGE')}"
                problems.append(BadInput(file=file, row=None, field=name,
                                         message=f"OFX: {wrapper} {reference!r} has no {name} "
                                                 f"(status {status.strip() or 'missing'})"))
                continue
            head = _statement(statement, account_tag, reference, file, problems)
            if head is None:
                continue
            heads.append(head)
            for index, transaction in enumerate(statement.iter("STMTTRN"), start=1):
                try:
                    fields = _transaction(transaction, head[1], head[2])
                    pending.append((len(heads) - 1, index, fields, _text(transaction, "FITID") or None))
                except FieldError as error:
                    pending.append((len(heads) - 1, index, None, None))
                    problems.append(_problem(file, reference, index, error))
    if not heads and not problems:
        problems.append(BadInput(file=file, row=None, field=None,
                                 message="OFX: no STMTRS or CCSTMTRS statement in the file"))
    statements = _build(heads, pending, file, problems)
    problems.extend(check_balances(file, statements))
    return ParsedFile(file=file, format="ofx", encoding=encoding, statements=tuple(statements),
                      problems=tuple(problems))


def _children(root: Element, messages: str, wrapper: str) -> list[Element]:
    return [response for block in root.iter(messages) for response in block.iter(wrapper)]


def _problem(file: str, reference: str, index: int, error: FieldError) -> BadInput:
    return BadInput(file=file, row=None, field=error.field,
                    message=f"OFX statement {reference!r}, transaction {index}: "
                            f"found {error.found!r}, expected {error.expected}")


def _statement(statement: Element, account_tag: str, reference: str, file: str,
               problems: list[BadInput]) -> tuple[str, str, str, Money | None] | None:
    account = _text(statement, account_tag, "ACCTID")
    currency = _text(statement, "CURDEF")
    if not account or not currency:
        problems.append(BadInput(file=file, row=None, field="ACCTID" if not account else "CURDEF",
                                 message=f"OFX statement {reference!r} names no "
                                         f"{account_tag}/ACCTID or no CURDEF; its "
                                         f"transactions are skipped"))
        return None
    closing = None
    if _find(statement, "LEDGERBAL", "BALAMT") is not None:
        try:
            closing = _money(_text(statement, "LEDGERBAL", "BALAMT"), currency, "BALAMT")
        except FieldError as error:
            problems.append(_problem(file, reference, 0, error))
    return reference, account, currency, closing


def _transaction(transaction: Element, account: str, currency: str) -> TxnFields:
    for foreign in ("CURRENCY", "ORIGCURRENCY"):
        if transaction.find(foreign) is not None and not _text(transaction, foreign, "CURSYM"):
            raise FieldError(f"{foreign}/CURSYM", None, "the currency of a foreign amount")
    if transaction.find("CURRENCY") is not None:
        currency = _text(transaction, "CURRENCY", "CURSYM")
    amount = _money(_text(transaction, "TRNAMT"), currency, "TRNAMT")
    posted = _date("DTPOSTED", _text(transaction, "DTPOSTED"))
    available = _text(transaction, "DTAVAIL")
    counterparty_account = (_text(transaction, "BANKACCTTO", "ACCTID")
                            or _text(transaction, "CCACCTTO", "ACCTID"))
    return TxnFields(account_no=account, booking_date=posted,
                     value_date=_date("DTAVAIL", available) if available else posted,
                     amount=amount,
                     counterparty=_text(transaction, "NAME") or _text(transaction, "PAYEE", "NAME"),
                     counterparty_account=counterparty_account,
                     remittance=_text(transaction, "MEMO"))


def _money(text: str, currency: str, field: str) -> Money:
    """OFX allows a comma as the decimal point and no thousands separator."""
    number = text.replace(",", ".") if "." not in text else text
    try:
        money = Money(Decimal(number), currency)
    except (InvalidOperation, MoneyError):
        raise FieldError(field, f"{text} {currency}".strip(), "a signed decimal amount and an "
                         "ISO 4217 currency") from None
    if not money.is_exact():
        raise FieldError(field, f"{text} {currency}", f"at most "
                         f"{-money.exponent.as_tuple().exponent} decimals for {currency} "
                         f"(the amount is not rounded)")
    return Money(money.amount.quantize(money.exponent), currency)


def _date(field: str, text: str) -> date:
    """YYYYMMDD[HHMMSS[.XXX]][[offset[:zone]]]: the date as written."""
    if not _DATE.match(text):
        raise FieldError(field, text, "a date YYYYMMDD[HHMMSS[.XXX]][[offset:zone]]")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        raise FieldError(field, text, "a real calendar date YYYYMMDD") from None


def _build(heads: list[tuple[str, str, str, Money | None]],
           pending: list[tuple[int, int, TxnFields | None, str | None]], file: str,
           problems: list[BadInput]) -> list[Statement]:
    ids = iter(assign_ids([(fitid, fields) for _h, _i, fields, fitid in pending if fields]))
    transactions: list[list[BankTransaction]] = [[] for _ in heads]
    complete = [True for _ in heads]
    for head, index, fields, _fitid in pending:
        if fields is None:
            complete[head] = False
            continue
        try:
            transactions[head].append(fields.transaction(next(ids)))
        except FieldError as error:
            complete[head] = False
            problems.append(_problem(file, heads[head][0], index, error))
    return [Statement(reference=reference, account_no=account, row=None, opening=None,
                      closing=closing, transactions=tuple(txns), complete=ok)
            for (reference, account, _currency, closing), txns, ok
            in zip(heads, transactions, complete, strict=True)]
