"""BAI2 (Cash Management Balance Reporting Specification, version 2) into ``BankTransaction``s.

A worked example: one group (as of 2026-12-31, USD) with one account opening at 100.00
(status 010) and closing at 75.00 (015), and one debit (type 475, 25.00 written as minor
units ``2500``) whose text goes on in an ``88`` continuation record:

    >>> text = '''01,BANKUS,ACME,261231,0200,F1,,,2/
    ... 02,ACME,BANKUS,1,261231,,USD,2/
    ... 03,1234,,010,10000,,,015,7500,,/
    ... 16,475,2500,0,B77,C12,CHECK PAID
    ... 88,INV 7, FINAL
    ... 49,20000,4/
    ... 98,20000,1,6/
    ... 99,20000,1,8/'''
    >>> parsed = parse_bai2(text.encode(), "s.bai2")
    >>> txn = parsed.transactions[0]
    >>> txn.txn_id, txn.booking_date.isoformat(), txn.amount, txn.remittance
    ('B77', '2026-12-31', Money('-25.00', 'USD'), 'CHECK PAID INV 7, FINAL')
    >>> parsed.problems
    ()

Records end with ``/``, except a 16's text, which runs to the end of the record (a final
``/`` is dropped); an ``88`` continues the record before it: its fields follow the earlier
ones, and in a 16 whose fixed fields are done it continues the text, joined by a space.
Type codes 100-399 are credits (+), 400-699 debits (-); amounts are integer minor units of
the account's currency, else the group's, else USD. Funds types 0, 1, 2, Z and empty add no
field; S adds three availability amounts, V a value date and time (the value date of the
line), D a count and that many day/amount pairs.

Ids: the bank reference, else the customer reference, else ``statement.assign_ids``' hash.
Control totals (the 49/98/99 sums of every 03 and 16 amount and their record counts) that
disagree with the file are problems, as are missing trailers; the lines are still read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from connectors.bank.bai2_fields import Cursor, read_date, read_funds, read_money, read_units
from connectors.bank.mt940_details import UndecodableFile, decode
from connectors.bank.statement import ParsedFile, Statement, TxnFields, assign_ids, check_balances
from ledger.errors import BadInput, FieldError
from ledger.money import Money

_CODE = re.compile(r"^\d\d$")
_OPENING, _CLOSING = "010", "015"


@dataclass(slots=True)
class _Record:
    row: int
    code: str
    segments: list[str]


@dataclass(slots=True)
class _Account:
    row: int
    number: str
    currency: str
    reference: str
    opening: Money | None = None
    closing: Money | None = None
    lines: list[tuple[int, str | None, TxnFields]] = field(default_factory=list)
    complete: bool = True
    total: int = 0
    records: int = 0


@dataclass(slots=True)
class _State:
    file: str
    problems: list[BadInput] = field(default_factory=list)
    accounts: list[_Account] = field(default_factory=list)
    file_id: str = ""
    as_of: date | None = None
    currency: str = "USD"
    group_total: int = 0
    group_accounts: int = 0
    group_records: int = 0
    file_total: int = 0
    file_groups: int = 0
    file_records: int = 0
    account: _Account | None = None
    in_group: bool = False

    def problem(self, row: int | None, field_name: str | None, message: str) -> None:
        self.problems.append(BadInput(file=self.file, row=row, field=field_name, message=message))


def parse_bai2(data: bytes, file: str, *, encoding_fallback: str = "cp1252") -> ParsedFile:
    try:
        text, encoding = decode(data, encoding_fallback)
    except UndecodableFile as error:
        return ParsedFile(file=file, format="bai2", encoding="", statements=(),
                          problems=(BadInput(file=file, row=None, field=None, message=str(error)),))
    state = _State(file=file)
    records = _records(text, state)
    if not records or records[0].code != "01":
        state.problem(records[0].row if records else None, "01",
                      "BAI2: the file does not start with a 01 file header record")
    for record in records:
        try:
            _apply(record, state)
        except FieldError as error:
            if record.code == "16" and state.account is not None:
                state.account.complete = False
            state.problems.append(BadInput.from_field_error(file, record.row, error))
    if state.account is not None:
        state.problem(None, "49", f"BAI2: account {state.account.number} has no 49 trailer")
    if state.in_group:
        state.problem(None, "98", "BAI2: the last group has no 98 trailer")
    if records and records[-1].code != "99":
        state.problem(None, "99", "BAI2: the file has no 99 trailer")
    statements = _statements(state)
    state.problems.extend(check_balances(file, statements))
    return ParsedFile(file=file, format="bai2", encoding=encoding, statements=tuple(statements),
                      problems=tuple(state.problems))


def _records(text: str, state: _State) -> list[_Record]:
    records: list[_Record] = []
    for row, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        code, _, body = line.partition(",")
        if not _CODE.match(code):
            state.problem(row, None, f"BAI2: {line[:20]!r} does not start with a record code; ignored")
            continue
        state.file_records += 1
        body = body[:-1] if body.endswith("/") else body
        if code == "88":
            if records:
                records[-1].segments.append(body)
            else:
                state.problem(row, "88", "BAI2: a continuation record before any record; ignored")
            continue
        records.append(_Record(row=row, code=code, segments=[body]))
    return records


def _apply(record: _Record, state: _State) -> None:
    fields = Cursor(record.segments)
    if record.code in ("03", "16", "49", "98"):  # a trailer counts itself and what it closes
        state.group_records += len(record.segments)
    if record.code in ("16", "49") and state.account is not None:
        state.account.records += len(record.segments)
    if record.code == "01":
        for _ in range(4):
            fields.take()
        state.file_id = fields.take()
    elif record.code == "02":
        _ = fields.take(), fields.take(), fields.take()
        state.as_of = read_date("as_of_date", fields.take())
        fields.take()
        state.currency = fields.take() or "USD"
        state.in_group, state.group_total, state.group_accounts = True, 0, 0
        state.group_records = len(record.segments)
    elif record.code == "03":
        _account(record, fields, state)
    elif record.code == "16":
        _detail(record, fields, state)
    elif record.code in ("49", "98", "99"):
        _trailer(record, fields, state)
    else:
        state.problem(record.row, None, f"BAI2: unknown record code {record.code}; ignored")


def _account(record: _Record, fields: Cursor, state: _State) -> None:
    if state.as_of is None:
        raise FieldError("02", None, "a 02 group header (as-of date) before the 03 account")
    if state.account is not None:
        state.problem(record.row, "49", f"BAI2: account {state.account.number} has no 49 trailer")
        state.group_total += state.account.total
        state.group_accounts += 1
        state.account = None  # so the lines of a broken 03 never land in the account before it
    number = fields.take()
    if not number:
        raise FieldError("account_no", "", "a customer account number in the 03 record")
    currency = fields.take() or state.currency
    account = state.account = _Account(row=record.row, number=number, currency=currency,
                                       reference=f"{state.file_id} {number}".strip(),
                                       records=len(record.segments))
    state.accounts.append(account)
    while not fields.done():
        code, amount = fields.take(), fields.take()
        fields.take()  # item count
        read_funds(fields)
        if not code and not amount:
            continue
        if amount:
            units = read_units("amount", amount)
            account.total += units
            money = read_money(units, currency)
            if code == _OPENING:
                account.opening = money
            elif code == _CLOSING:
                account.closing = money


def _detail(record: _Record, fields: Cursor, state: _State) -> None:
    account = state.account
    if account is None or state.as_of is None:
        raise FieldError("16", record.segments[0][:30], "a 16 record inside a 03 account")
    code, amount = fields.take(), fields.take()
    units = read_units("amount", amount)
    account.total += units
    value_date = read_funds(fields) or state.as_of
    bank_reference, customer_reference, text = fields.take(), fields.take(), fields.rest()
    if not code.isdecimal() or not 100 <= int(code) <= 699:
        account.complete = False
        raise FieldError("type_code", code, "a transaction type code 100-399 (credit) or "
                         "400-699 (debit)")
    money = read_money(units, account.currency)
    preferred = bank_reference or customer_reference or None
    account.lines.append((record.row, preferred, TxnFields(
        account_no=account.number, booking_date=state.as_of, value_date=value_date,
        amount=-money if int(code) >= 400 else money, counterparty="", counterparty_account="",
        remittance=text)))


def _trailer(record: _Record, fields: Cursor, state: _State) -> None:
    control, first = fields.take(), fields.take()
    second = fields.take() if record.code != "49" else first
    if record.code == "49":
        account, state.account = state.account, None
        if account is None:
            raise FieldError("49", control, "a 49 trailer after a 03 account")
        _compare(state, record, f"account {account.number}", control, account.total,
                 second, account.records)
        state.group_total += account.total
        state.group_accounts += 1
    elif record.code == "98":
        _compare(state, record, "group", control, state.group_total, second, state.group_records)
        if first.isdecimal() and int(first) != state.group_accounts:
            state.problem(record.row, "98", f"BAI2: group trailer counts {first} accounts, "
                                            f"the group has {state.group_accounts}")
        state.file_total += state.group_total
        state.file_groups += 1
        state.in_group = False
    else:
        _compare(state, record, "file", control, state.file_total, second, state.file_records)
        if first.isdecimal() and int(first) != state.file_groups:
            state.problem(record.row, "99", f"BAI2: file trailer counts {first} groups, "
                                            f"the file has {state.file_groups}")


def _compare(state: _State, record: _Record, what: str, control: str, total: int, count: str,
             records: int) -> None:
    row, code = record.row, record.code
    if not re.fullmatch(r"[+-]?\d+", control) or not count.isdecimal():
        state.problem(row, code, f"BAI2: {what} trailer: found control total {control!r} and "
                                 f"record count {count!r}, expected integers")
        return
    if int(control) != total:
        state.problem(row, code, f"BAI2: {what} control total is {control}, but its amounts "
                                 f"add up to {total}")
    if int(count) != records:
        state.problem(row, code, f"BAI2: {what} trailer counts {count} records, but there are "
                                 f"{records}")


def _statements(state: _State) -> list[Statement]:
    pending = [line for account in state.accounts for line in account.lines]
    ids = iter(assign_ids([(preferred, fields) for _row, preferred, fields in pending]))
    statements = []
    for account in state.accounts:
        transactions = []
        for row, _preferred, fields in account.lines:
            txn_id = next(ids)
            try:
                transactions.append(fields.transaction(txn_id))
            except FieldError as error:
                account.complete = False
                state.problems.append(BadInput.from_field_error(state.file, row, error))
        statements.append(Statement(reference=account.reference, account_no=account.number,
                                    row=account.row, opening=account.opening,
                                    closing=account.closing, transactions=tuple(transactions),
                                    complete=account.complete))
    return statements
