"""SWIFT MT940 (statement) and MT942 (interim report) into canonical ``BankTransaction``s.

A worked example: one statement with one debit. ``:61:`` reads value date 2026-12-31,
entry date 01-02 (the next year, because it is closer to the value date than 2026-01-02),
debit 25,03 EUR, type NTRF, customer reference ``INV42``, bank reference ``B99``:

    >>> text = (":20:S1\\n:25:NL01BANK0123\\n:28C:7/1\\n:60F:C261231EUR100,00\\n"
    ...         ":61:2612310102D25,03NTRFINV42//B99\\n:86:fee\\n:62F:C270102EUR74,97\\n-")
    >>> parsed = parse_mt940(text.encode(), "s.sta")
    >>> txn = parsed.transactions[0]
    >>> txn.txn_id, txn.booking_date, txn.value_date, txn.amount, txn.remittance
    ('B99', datetime.date(2027, 1, 2), datetime.date(2026, 12, 31), Money('-25.03', 'EUR'), 'fee')
    >>> parsed.problems
    ()

Transaction ids: the bank reference (after ``//``) unless absent or NONREF, else the customer
reference unless NONREF, else a hash of the normalised fields plus the occurrence index among
identical lines (``statement.assign_ids``); a repeated reference gets ``.2``, ``.3``…

Years: YYMMDD is 20YY below 80 and 19YY from 80. Impossible dates (February 30) make that
line a ``BadInput``. Bytes are decoded strictly (``mt940_details.decode``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from connectors.bank.mt940_details import UndecodableFile, decode, parse_details
from connectors.bank.statement import ParsedFile, Statement, TxnFields, assign_ids, check_balances
from ledger.documents import BankTransaction
from ledger.errors import BadInput, FieldError
from ledger.money import Money, MoneyError

_TAG = re.compile(r"^:(\d\d[A-Z]?):(.*)$")
_END = re.compile(r"^-[A-Z}]*$")
_BALANCE = re.compile(r"^([CD])(\d{6})([A-Z]{3})(\d+,\d*)$")
_LINE = re.compile(r"^(?P<value>\d{6})(?P<entry>\d{4})?(?P<mark>RC|RD|EC|ED|C|D)(?P<funds>[A-Z])?"
                   r"(?P<amount>\d+,\d*)(?P<type>[NSF][A-Z0-9]{3})?(?P<refs>.*)$")
_FLOOR = re.compile(r"^([A-Z]{3})[CD]?(\d+,\d*)$")
_KNOWN = {"20", "21", "25", "28", "28C", "60F", "60M", "61", "86", "62F", "62M", "64", "65",
          "34F", "13", "13D", "90D", "90C"}
_NONREF = "NONREF"
_CONTROL = "".join(map(chr, range(32)))  # SOH/ETX framing bytes some banks wrap messages in


@dataclass(slots=True)
class _Pending:
    row: int
    value_date: date
    booking_date: date
    amount: Money
    preferred_id: str | None
    details: str = ""


@dataclass(slots=True)
class _Message:
    row: int
    reference: str
    account: str = ""
    number: str = ""
    opening: Money | None = None
    closing: Money | None = None
    currency: str = ""
    lines: list[_Pending] = field(default_factory=list)
    complete: bool = True


def parse_mt940(data: bytes, file: str, *, encoding_fallback: str = "cp1252") -> ParsedFile:
    try:
        text, encoding = decode(data, encoding_fallback)
    except UndecodableFile as error:
        return ParsedFile(file=file, format="mt940", encoding="", statements=(),
                          problems=(BadInput(file=file, row=None, field=None, message=str(error)),))
    problems: list[BadInput] = []
    messages = _messages(_fields(text), file, problems)
    if not messages:
        problems.append(BadInput(file=file, row=None, field=None,
                                 message="no MT940/MT942 statement found (no ':20:' tag)"))
    statements = _statements(messages, file, problems)
    problems.extend(check_balances(file, statements))
    return ParsedFile(file=file, format="mt940", encoding=encoding, statements=tuple(statements),
                      problems=tuple(problems))


def _fields(text: str) -> list[tuple[int, str, str]]:
    """(line number, tag, value) with continuation lines joined by newlines."""
    fields: list[tuple[int, str, str]] = []
    open_field = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip(_CONTROL) if raw.strip(_CONTROL + " ") == "" else raw.rstrip("\r")
        match = _TAG.match(line)
        if match:
            fields.append((number, match[1], match[2]))
            open_field = True
        elif _END.match(line.strip(_CONTROL + " ")) or line.startswith("{"):
            open_field = False
        elif open_field and line.strip():
            row, tag, value = fields[-1]
            fields[-1] = (row, tag, value + "\n" + line)
    return fields


def _yymmdd(name: str, text: str) -> date:
    year = int(text[:2])
    try:
        return date(2000 + year if year < 80 else 1900 + year, int(text[2:4]), int(text[4:6]))
    except ValueError:
        raise FieldError(name, text, "a real calendar date YYMMDD") from None


def _entry_date(text: str, value: date) -> date:
    """MMDD of the entry date, in the year that puts it closest to the value date."""
    candidates = []
    for year in (value.year - 1, value.year, value.year + 1):
        try:
            candidates.append(date(year, int(text[:2]), int(text[2:])))
        except ValueError:
            continue
    if not candidates:
        raise FieldError("entry_date", text, "a real calendar date MMDD")
    return min(candidates, key=lambda day: abs((day - value).days))


def _amount(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


def _balance(tag: str, value: str) -> Money:
    match = _BALANCE.match(value.strip())
    if not match:
        raise FieldError(tag, value, "D/C mark, YYMMDD, currency and amount, e.g. C261231EUR10,00")
    _yymmdd(tag, match[2])
    try:
        money = Money(_amount(match[4]), match[3])
    except MoneyError:
        raise FieldError(tag, match[3], "an ISO 4217 currency code") from None
    return -money if match[1] == "D" else money


def _messages(fields: list[tuple[int, str, str]], file: str,
              problems: list[BadInput]) -> list[_Message]:
    messages: list[_Message] = []
    previous = ""
    for row, tag, value in fields:
        if tag == "20":
            messages.append(_Message(row=row, reference=value.strip()))
        elif not messages:
            problems.append(BadInput(file=file, row=row, field=tag,
                                     message=f"tag :{tag}: before the first ':20:'; ignored"))
        else:
            try:
                _apply(messages[-1], tag, value, previous, row, file, problems)
            except FieldError as error:
                if tag == "61":
                    messages[-1].complete = False
                problems.append(BadInput.from_field_error(file, row, error))
        previous = tag
    return messages


def _apply(message: _Message, tag: str, value: str, previous: str, row: int, file: str,
           problems: list[BadInput]) -> None:
    if tag == "25":
        message.account = value.strip()
    elif tag in ("28", "28C"):
        message.number = value.strip()
    elif tag in ("60F", "60M"):
        message.opening = _balance(tag, value)
        message.currency = message.opening.currency
    elif tag in ("62F", "62M"):
        message.closing = _balance(tag, value)
    elif tag in ("64", "65"):
        _balance(tag, value)
    elif tag == "34F":
        floor = _FLOOR.match(value.strip())
        if not floor:
            raise FieldError(tag, value, "currency and floor limit, e.g. EUR0,")
        message.currency = message.currency or floor[1]
    elif tag == "61":
        message.lines.append(_line(value, message.currency, row))
    elif tag == "86" and previous == "61" and message.lines:
        message.lines[-1].details = value
    elif tag not in _KNOWN:
        problems.append(BadInput(file=file, row=row, field=tag,
                                 message=f"unknown tag :{tag}: in statement "
                                         f"{message.reference!r}; ignored"))


def _line(value: str, currency: str, row: int) -> _Pending:
    first, _, _supplementary = value.partition("\n")
    match = _LINE.match(first.strip())
    if not match:
        raise FieldError("61", first, "value date YYMMDD, [entry MMDD], D/C/RD/RC, amount, type")
    if not currency:
        raise FieldError("currency", "", "a currency from :60F:/:60M: or :34F: before :61:")
    value_date = _yymmdd("value_date", match["value"])
    booking = _entry_date(match["entry"], value_date) if match["entry"] else value_date
    amount = Money(_amount(match["amount"]), currency)
    if match["mark"] in ("D", "RC", "ED"):
        amount = -amount
    customer, _, bank = match["refs"].partition("//")
    customer, bank = customer.strip(), bank.strip()
    preferred = next((ref for ref in (bank, customer) if ref and ref != _NONREF), None)
    return _Pending(row=row, value_date=value_date, booking_date=booking, amount=amount,
                    preferred_id=preferred)


def _statements(messages: list[_Message], file: str, problems: list[BadInput]) -> list[Statement]:
    keep = []
    for message in messages:
        if message.account:
            keep.append(message)
        else:
            problems.append(BadInput(file=file, row=message.row, field="25",
                                     message=f"statement {message.reference!r} has no ':25:' "
                                             f"account; its {len(message.lines)} lines are skipped"))
    candidates = []
    for message in keep:
        for line in message.lines:
            details = parse_details(line.details)
            candidates.append((line.preferred_id, TxnFields(
                account_no=message.account, booking_date=line.booking_date,
                value_date=line.value_date, amount=line.amount, counterparty=details.counterparty,
                counterparty_account=details.counterparty_account, remittance=details.remittance)))
    ids = iter(assign_ids(candidates))
    fields_iter = iter(candidates)
    statements = []
    for message in keep:
        transactions = []
        for line in message.lines:
            txn_id, (_, fields) = next(ids), next(fields_iter)
            try:
                transactions.append(BankTransaction(txn_id=txn_id, **_as_kwargs(fields)))
            except FieldError as error:
                message.complete = False
                problems.append(BadInput.from_field_error(file, line.row, error))
        reference = f"{message.reference} {message.number}".strip()
        statements.append(Statement(reference=reference, account_no=message.account,
                                    row=message.row, opening=message.opening,
                                    closing=message.closing, transactions=tuple(transactions),
                                    complete=message.complete))
    return statements


def _as_kwargs(fields: TxnFields) -> dict:
    return {name: getattr(fields, name) for name in TxnFields.__dataclass_fields__}
