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
identical lines (``statement.Ids``); a repeated reference gets ``.2``, ``.3``…

Fields: a ``:86:`` belongs to the ``:61:`` right before it; further ``:86:`` fields after it
(Danske Bank, Rabobank split long details so) continue it, joined by a line break; a ``:86:``
anywhere else (statement-level information) is not a transaction's. A second ``:25:`` in a
message is a problem and never changes the account.

Years: YYMMDD is 20YY below 80 and 19YY from 80. Impossible dates (February 30) make that
line a ``BadInput``. Bytes are decoded strictly (``mt940_details.decode``).

Speed (``benchmarks.bench_parsers``): the text is split at every tag by one regex pass and
a second pass finds the few lines that need the line rules (end of message, ``{``, blank),
so other values are taken whole; per line only the ``:61:`` regex, a date-cache lookup, a
``Decimal``, the ``:86:`` split and the ``BankTransaction`` cost anything. Fields the
parser has checked itself (the statement's account, a non-zero amount with at most its
currency's decimals) build it through ``BankTransaction.from_checked``; anything else goes
through the checking constructor, so a bad line is still a problem naming its row. The
cycle collector is paused while a file is parsed (``statement.cycle_collection_paused``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from connectors.bank.mt940_details import NO_DETAILS, UndecodableFile, decode, parse_details
from connectors.bank.statement import (
    Ids,
    ParsedFile,
    Statement,
    TxnFields,
    check_balances,
    cycle_collection_paused,
)
from ledger.documents import BankTransaction
from ledger.errors import BadInput, FieldError
from ledger.money import CURRENCY_MINOR_UNITS as _MINOR_UNITS
from ledger.money import Money, MoneyError

#: A tag at the start of a line, found over the whole text at once; a field's value runs
#: to the next tag (its continuation lines), cut at an end-of-message line.
_TAG = re.compile(r"\n:(\d\d[A-Z]?):")
#: Line breaks other than ``\n`` that ``str.splitlines`` honours; a file with any of them is
#: re-joined with ``\n`` first, so every file is split into lines the same way.
_ODD_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_END = re.compile(r"^-[A-Z}]*$")
#: The line break before a line that may end a value or be skipped: a blank line, or one
#: starting (after blanks) with - or {. Never the one before a tag (":" is no blank).
_SPECIAL_LINE = re.compile(r"\n(?=[\x00-\x09\x0b-\x20]*(?:[-{\n]|\Z))")
_BALANCE = re.compile(r"^([CD])(\d{6})([A-Z]{3})(\d+,\d*)$")
#: value date YYMMDD, [entry MMDD], mark, (funds code), amount, (type), references
_LINE = re.compile(r"^(\d{6}(?:\d{4})?)(RC|RD|EC|ED|C|D)(?:[A-Z])?(\d+,\d*)(?:[NSF][A-Z0-9]{3})?(.*)$")
_FLOOR = re.compile(r"^([A-Z]{3})[CD]?(\d+,\d*)$")
_KNOWN = {"20", "21", "25", "28", "28C", "60F", "60M", "61", "86", "62F", "62M", "64", "65",
          "34F", "13", "13D", "90D", "90C"}
_NONREF = "NONREF"
_CONTROL = "".join(map(chr, range(32)))  # SOH/ETX framing bytes some banks wrap messages in
_BLANK = _CONTROL + " "
_NEGATIVE = frozenset({"D", "RC", "ED"})


#: A read :61: line: [row, value date, booking date, amount, preferred id, :86: text, plain
#: amount]; a list, not an object, because a file has millions of them and :86: fills in the
#: text. A plain amount is non-zero, at most 15 characters, with at most the currency's
#: decimals.
_Pending = list


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
    with cycle_collection_paused():
        return _parse(data, file, encoding_fallback)


def _parse(data: bytes, file: str, encoding_fallback: str) -> ParsedFile:
    try:
        text, encoding = decode(data, encoding_fallback)
    except UndecodableFile as error:
        return ParsedFile(file=file, format="mt940", encoding="", statements=(),
                          problems=(BadInput(file=file, row=None, field=None, message=str(error)),))
    problems: list[BadInput] = []
    messages = _messages(text, file, problems)
    if not messages:
        problems.append(BadInput(file=file, row=None, field=None,
                                 message="no MT940/MT942 statement found (no ':20:' tag)"))
    statements = _statements(messages, file, problems)
    problems.extend(check_balances(file, statements))
    return ParsedFile(file=file, format="mt940", encoding=encoding, statements=tuple(statements),
                      problems=tuple(problems))


def _fields(text: str) -> tuple[list[str], int, list[int]]:
    """The text split at every tag, ``[before, tag, value, tag, value, ...]``, the first tag's
    row, and where lines that need the line rules begin.

    One regex pass splits the whole text; a value is the rest of its tag's line, plus the
    non-blank lines up to the next tag unless an end-of-message line (``-``, ``-}``) or a
    ``{`` block line closes it first. A second pass finds those lines and the blank ones
    (few: about one per message), so ``_messages`` applies the line rules only to the
    values that hold one. Positions count in ``"\n" + text``, the text the split saw;
    the last one is past its end. Text before the first tag is no field.
    """
    if any(odd in text for odd in _ODD_BREAKS):
        text = "\n".join(text.splitlines())
    whole = "\n" + text
    parts = _TAG.split(whole)  # values without the line break before the next tag
    specials = [match.start() for match in _SPECIAL_LINE.finditer(whole, len(parts[0]))]
    specials.append(len(whole) + 1)
    return parts, parts[0].count("\n") + 1, specials


def _continued(value: str, following: str) -> str:
    """The value and its continuation lines: those up to an end-of-message or ``{`` line,
    without empty lines and lines of framing control characters (a line of spaces is text)."""
    for line in following.split("\n"):
        bare = line.strip(_BLANK)
        if not bare and not (line and not line.strip(" ")):
            continue
        if _END.match(bare) or line.startswith("{"):
            break
        value += "\n" + line
    return value


_DATES: dict[str, date] = {}


def _yymmdd(name: str, text: str) -> date:
    known = _DATES.get(text)
    if known is not None:
        return known
    year = int(text[:2])
    try:
        day = date(2000 + year if year < 80 else 1900 + year, int(text[2:4]), int(text[4:6]))
    except ValueError:
        raise FieldError(name, text, "a real calendar date YYMMDD") from None
    if len(_DATES) < 100_000:  # a statement file names few distinct days
        _DATES[text] = day
    return day


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


#: :61: value date YYMMDD and optional entry MMDD, as written -> (value date, booking date)
_LINE_DATES: dict[str, tuple[date, date]] = {}


def _line_dates(text: str) -> tuple[date, date]:
    value_date = _yymmdd("value_date", text[:6])
    entry = text[6:]
    dates = (value_date, value_date if not entry or entry == text[2:6]
             else _entry_date(entry, value_date))
    if len(_LINE_DATES) < 100_000:  # few distinct days again
        _LINE_DATES[text] = dates
    return dates


def _balance(tag: str, value: str) -> Money:
    match = _BALANCE.match(value.strip())
    if not match:
        raise FieldError(tag, value, "D/C mark, YYMMDD, currency and amount, e.g. C261231EUR10,00")
    _yymmdd(tag, match[2])
    try:
        money = Money(Decimal(match[4].replace(",", ".")), match[3])
    except MoneyError:
        raise FieldError(tag, match[3], "an ISO 4217 currency code") from None
    return -money if match[1] == "D" else money


def _messages(text: str, file: str, problems: list[BadInput]) -> list[_Message]:
    """The messages of the text, field by field in one pass (``_fields``)."""
    parts, row, specials = _fields(text)
    messages: list[_Message] = []
    message: _Message | None = None
    last_line: _Pending | None = None  # the :61: line a :86: right after it belongs to
    values = iter(parts)
    end = len(next(values))  # where the next field's "\n:tag:" begins
    next_specials = iter(specials)
    special = next(next_specials)
    for tag, value in zip(values, values, strict=True):
        at = row
        row += value.count("\n") + 1
        end += len(tag) + len(value) + 3
        if special < end:  # a line of this value needs the rules; usually all lines continue it
            while special < end:
                special = next(next_specials)
            newline = value.find("\n")
            value = _continued(value[:newline], value[newline + 1:])
        if tag == "61" and message is not None:
            try:
                last_line = _line(value, message.currency, at)
            except FieldError as error:
                last_line, message.complete = None, False
                problems.append(BadInput.from_field_error(file, at, error))
            else:
                message.lines.append(last_line)
            continue
        if tag == "86" and message is not None:
            if last_line is not None:  # a :86: after another continues it (Danske, Rabobank)
                last_line[5] = f"{last_line[5]}\n{value}" if last_line[5] else value
                continue
        elif tag == "20":
            message = _Message(row=at, reference=value.strip())
            messages.append(message)
        elif message is None:
            problems.append(BadInput(file=file, row=at, field=tag,
                                     message=f"tag :{tag}: before the first ':20:'; ignored"))
        else:
            try:
                _apply(message, tag, value, at, file, problems)
            except FieldError as error:
                problems.append(BadInput.from_field_error(file, at, error))
        last_line = None
    return messages


def _apply(message: _Message, tag: str, value: str, row: int, file: str,
           problems: list[BadInput]) -> None:
    if tag == "25":
        if message.account:  # a damaged file (a :86: tag overwritten): never re-account lines
            problems.append(BadInput(file=file, row=row, field=tag, message=(
                f"a second ':25:' in statement {message.reference!r} ({value.strip()[:40]!r}); "
                f"ignored, its account stays {message.account}")))
            return
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
        if floor[1] not in _MINOR_UNITS:
            raise FieldError(tag, floor[1], "an ISO 4217 currency code")
        message.currency = message.currency or floor[1]
    elif tag not in _KNOWN:
        problems.append(BadInput(file=file, row=row, field=tag,
                                 message=f"unknown tag :{tag}: in statement "
                                         f"{message.reference!r}; ignored"))


def _line(value: str, currency: str, row: int) -> _Pending:
    first = value[:value.index("\n")].strip() if "\n" in value else value.strip()
    match = _LINE.match(first)
    if not match:
        raise FieldError("61", first, "value date YYMMDD, [entry MMDD], D/C/RD/RC, amount, type")
    if not currency:
        raise FieldError("currency", "", "a currency from :60F:/:60M: or :34F: before :61:")
    dates, mark, amount, refs = match.groups()
    value_date, booking = _LINE_DATES.get(dates) or _line_dates(dates)
    digits = amount.replace(",", ".")
    # the regex's digits are a finite number, the message's currency a known one
    money = Money.from_checked(Decimal("-" + digits if mark in _NEGATIVE else digits), currency)
    customer, _, bank = refs.partition("//")
    customer, bank = customer.strip(), bank.strip()
    preferred = (bank if bank and bank != _NONREF
                 else customer if customer and customer != _NONREF else None)
    # non-zero, at most SWIFT's 15 characters and the currency's decimals: BankTransaction
    # need not re-check (anything else goes through its checks, which raise the FieldError)
    plain = (len(amount) <= 15 and len(amount) - amount.index(",") - 1 <= _MINOR_UNITS[currency]
             and bool(money.amount))
    return [row, value_date, booking, money, preferred, "", plain]


def _statements(messages: list[_Message], file: str, problems: list[BadInput]) -> list[Statement]:
    ids = Ids()
    statements = []
    for message in messages:
        if not message.account:
            problems.append(BadInput(file=file, row=message.row, field="25",
                                     message=f"statement {message.reference!r} has no ':25:' "
                                             f"account; its {len(message.lines)} lines are skipped"))
            continue
        account = message.account
        checked = ":" not in account  # non-empty and stripped: BankTransaction need not re-check
        transactions = []
        for row, value_date, booking_date, amount, preferred, text, plain in message.lines:
            counterparty, counterparty_account, remittance = (parse_details(text) if text
                                                              else NO_DETAILS)
            if preferred:
                txn_id = ids.preferred(preferred)
            else:
                txn_id = ids.hashed(TxnFields(
                    account_no=account, booking_date=booking_date, value_date=value_date,
                    amount=amount, counterparty=counterparty,
                    counterparty_account=counterparty_account, remittance=remittance))
            if checked and plain:
                transactions.append(BankTransaction.from_checked(
                    account, txn_id, booking_date, value_date, amount, counterparty,
                    counterparty_account, remittance))
                continue
            try:
                transactions.append(BankTransaction(
                    account_no=account, txn_id=txn_id, booking_date=booking_date,
                    value_date=value_date, amount=amount, counterparty=counterparty,
                    counterparty_account=counterparty_account, remittance=remittance))
            except FieldError as error:
                message.complete = False
                problems.append(BadInput.from_field_error(file, row, error))
        reference = f"{message.reference} {message.number}".strip()
        statements.append(Statement(reference=reference, account_no=account,
                                    row=message.row, opening=message.opening,
                                    closing=message.closing, transactions=tuple(transactions),
                                    complete=message.complete))
    return statements
