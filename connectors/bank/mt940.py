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

Speed: the text is split at every tag by one regex pass, continuation lines are taken whole
unless one of them needs the line rules, and per line only the ``:61:`` regex, a date-cache
lookup, a ``Decimal`` and the ``BankTransaction`` itself cost anything
(``benchmarks.bench_parsers``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from connectors.bank.mt940_details import NO_DETAILS, UndecodableFile, decode, parse_details
from connectors.bank.statement import Ids, ParsedFile, Statement, TxnFields, check_balances
from ledger.documents import BankTransaction
from ledger.errors import BadInput, FieldError
from ledger.money import Money, MoneyError

#: A tag at the start of a line, found over the whole text at once; a field's value runs
#: to the next tag (its continuation lines), cut at an end-of-message line.
_TAG = re.compile(r"\n:(\d\d[A-Z]?):")
#: Line breaks other than ``\n`` that ``str.splitlines`` honours; a file with any of them is
#: re-joined with ``\n`` first, so every file is split into lines the same way.
_ODD_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_END = re.compile(r"^-[A-Z}]*$")
#: A line that may end a value or be skipped: blank, or starting (after blanks) with - or {.
_SPECIAL_LINE = re.compile(r"^[\x00-\x09\x0b-\x20]*(?:[-{]|$)", re.MULTILINE)
_BALANCE = re.compile(r"^([CD])(\d{6})([A-Z]{3})(\d+,\d*)$")
_LINE = re.compile(r"^(?P<value>\d{6})(?P<entry>\d{4})?(?P<mark>RC|RD|EC|ED|C|D)(?P<funds>[A-Z])?"
                   r"(?P<amount>\d+,\d*)(?P<type>[NSF][A-Z0-9]{3})?(?P<refs>.*)$")
_FLOOR = re.compile(r"^([A-Z]{3})[CD]?(\d+,\d*)$")
_KNOWN = {"20", "21", "25", "28", "28C", "60F", "60M", "61", "86", "62F", "62M", "64", "65",
          "34F", "13", "13D", "90D", "90C"}
_NONREF = "NONREF"
_CONTROL = "".join(map(chr, range(32)))  # SOH/ETX framing bytes some banks wrap messages in
_BLANK = _CONTROL + " "
_NEGATIVE = frozenset({"D", "RC", "ED"})


#: A read :61: line: [row, value date, booking date, amount, preferred id, :86: text]; a
#: list, not an object, because a file has millions of them and :86: fills in the last slot.
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


def _fields(text: str) -> Iterator[tuple[int, str, str]]:
    """(line number, tag, value) with continuation lines joined by newlines.

    One regex pass splits the whole text at every tag; a value is the rest of its tag's
    line, plus the non-blank lines up to the next tag unless an end-of-message line (``-``,
    ``-}``) or a ``{`` block line closes it first. Text before the first tag is no field.
    """
    if any(odd in text for odd in _ODD_BREAKS):
        text = "\n".join(text.splitlines())
    parts = _TAG.split("\n" + text)  # [before, tag, value, tag, value, ...], values without
    row = parts[0].count("\n") + 1  # the line break before the next tag
    for tag, value in zip(parts[1::2], parts[2::2], strict=True):
        breaks = value.count("\n")
        if not breaks:
            yield row, tag, value
        else:
            newline = value.find("\n")
            if _SPECIAL_LINE.search(value, newline + 1) is None:
                yield row, tag, value  # the usual case: every line continues the value
            else:
                yield row, tag, _continued(value[:newline], value[newline + 1:])
        row += breaks + 1


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


_ENTRY_DATES: dict[tuple[str, date], date] = {}


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
    closest = min(candidates, key=lambda day: abs((day - value).days))
    if len(_ENTRY_DATES) < 100_000:
        _ENTRY_DATES[text, value] = closest
    return closest


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


def _messages(fields: Iterable[tuple[int, str, str]], file: str,
              problems: list[BadInput]) -> list[_Message]:
    messages: list[_Message] = []
    message: _Message | None = None
    last_line: _Pending | None = None  # the :61: line a :86: right after it belongs to
    for row, tag, value in fields:
        if tag == "61" and message is not None:
            try:
                last_line = _line(value, message.currency, row)
            except FieldError as error:
                last_line, message.complete = None, False
                problems.append(BadInput.from_field_error(file, row, error))
            else:
                message.lines.append(last_line)
            continue
        if tag == "86" and message is not None:
            if last_line is not None:  # a :86: after another continues it (Danske, Rabobank)
                last_line[5] = f"{last_line[5]}\n{value}" if last_line[5] else value
                continue
        elif tag == "20":
            message = _Message(row=row, reference=value.strip())
            messages.append(message)
        elif message is None:
            problems.append(BadInput(file=file, row=row, field=tag,
                                     message=f"tag :{tag}: before the first ':20:'; ignored"))
        else:
            try:
                _apply(message, tag, value, row, file, problems)
            except FieldError as error:
                problems.append(BadInput.from_field_error(file, row, error))
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
        message.currency = message.currency or floor[1]
    elif tag not in _KNOWN:
        problems.append(BadInput(file=file, row=row, field=tag,
                                 message=f"unknown tag :{tag}: in statement "
                                         f"{message.reference!r}; ignored"))


def _line(value: str, currency: str, row: int) -> _Pending:
    first = (value.partition("\n")[0] if "\n" in value else value).strip()
    match = _LINE.match(first)
    if not match:
        raise FieldError("61", first, "value date YYMMDD, [entry MMDD], D/C/RD/RC, amount, type")
    if not currency:
        raise FieldError("currency", "", "a currency from :60F:/:60M: or :34F: before :61:")
    value_text, entry, mark, _funds, amount, _type, refs = match.groups()
    value_date = _DATES.get(value_text) or _yymmdd("value_date", value_text)
    if entry is None or entry == value_text[2:]:
        booking = value_date
    else:
        booking = _ENTRY_DATES.get((entry, value_date)) or _entry_date(entry, value_date)
    digits = amount.replace(",", ".")
    money = Money(Decimal("-" + digits if mark in _NEGATIVE else digits), currency)
    customer, _, bank = refs.partition("//")
    customer, bank = customer.strip(), bank.strip()
    preferred = (bank if bank and bank != _NONREF
                 else customer if customer and customer != _NONREF else None)
    return [row, value_date, booking, money, preferred, ""]


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
        transactions = []
        for row, value_date, booking_date, amount, preferred, text in message.lines:
            details = parse_details(text) if text else NO_DETAILS
            counterparty, counterparty_account, remittance = details
            if preferred:
                txn_id = ids.preferred(preferred)
            else:
                txn_id = ids.hashed(TxnFields(
                    account_no=account, booking_date=booking_date, value_date=value_date,
                    amount=amount, counterparty=counterparty,
                    counterparty_account=counterparty_account, remittance=remittance))
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
