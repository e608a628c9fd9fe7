"""What an e-invoice says, before it becomes a ledger document: extracted with a template.

Text comes from a PDF's or an OFD's text layer; the layout's template (see ``templates``)
finds each field. Parties are listed in reading order, buyer first: real layouts interleave
the buyer and seller columns on one line (``名称:甲公司 名称:乙公司``), so the first
``名称`` is the buyer's and the second the seller's, and likewise for the tax ids.

    >>> fields, problems = extract(text, load_templates(), "a.pdf")
    >>> fields.number, fields.buyer.name, fields.lines[0].rate
    ('24112000000048542163', '甲公司', Decimal('0.13'))
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from connectors.einvoice.amounts import AmountError, parse_money
from connectors.einvoice.templates import InvoiceTemplate, choose, normalise
from ledger.errors import BadInput

EXEMPT_RATES = ("免税", "不征税")


@dataclass(frozen=True, slots=True, kw_only=True)
class Party:
    name: str
    tax_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtractedLine:
    item: str
    spec: str
    unit: str
    quantity: Decimal | None
    unit_price: Decimal | None
    net_amount: Decimal
    tax_rate: Decimal
    tax_amount: Decimal
    rate_text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceFields:
    layout: str
    title: str
    number: str
    code: str
    check_code: str
    date: dt.date
    buyer: Party
    seller: Party
    lines: tuple[ExtractedLine, ...]
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal
    gross_upper: str
    remarks: str


def parse_date(text: str) -> dt.date:
    """``2026年11月01日`` (spaces allowed) or ``2026-11-01``."""
    match = re.fullmatch(r"(\d{4})\s*[年-]\s*(\d{1,2})\s*[月-]\s*(\d{1,2})\s*日?", text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a date such as 2026年11月01日")
    return dt.date(int(match[1]), int(match[2]), int(match[3]))


def parse_rate(text: str) -> Decimal:
    """``13%`` is 0.13; ``免税`` and ``不征税`` are 0."""
    if text.strip() in EXEMPT_RATES:
        return Decimal(0)
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*%", text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a tax rate such as 13%, 免税 or 不征税")
    return Decimal(match[1]) / 100


def parse_tax(text: str) -> Decimal:
    """A tax amount; ``***`` (printed for 免税 / 不征税 lines) is 0."""
    return Decimal(0) if set(text.strip()) == {"*"} else parse_money(text)


def _line(match: re.Match[str]) -> ExtractedLine:
    groups = {name: (value or "").strip() for name, value in match.groupdict().items()}
    quantity = groups.get("quantity", "")
    price = groups.get("price", "")
    return ExtractedLine(
        item=groups["item"], spec=groups.get("spec", ""), unit=groups.get("unit", ""),
        quantity=Decimal(quantity) if quantity else None,
        unit_price=Decimal(price) if price else None,
        net_amount=parse_money(groups["amount"]), tax_rate=parse_rate(groups["rate"]),
        tax_amount=parse_tax(groups["tax"]), rate_text=groups["rate"])


def extract(text: str, templates: tuple[InvoiceTemplate, ...],
            file: str) -> tuple[InvoiceFields | None, list[BadInput]]:
    """The fields of the one invoice in ``text``, or the problems that stop it."""
    normalised = normalise(text)
    template = choose(templates, normalised)
    if template is None:
        return None, [BadInput(file=file, row=None, field=None, message=(
            "UNPARSEABLE_DOCUMENT: no invoice template recognises this layout (known: "
            f"{', '.join(t.name for t in templates)}); add one under config/invoice_templates/"))]
    text = template.close_labels(normalised)
    problems: list[BadInput] = []

    def problem(field: str | None, message: str) -> None:
        problems.append(BadInput(file=file, row=None, field=field,
                                 message=f"{template.name}: {message}"))

    found: dict[str, str] = {}
    for name, pattern in template.fields.items():
        match = re.search(pattern, text, re.MULTILINE)
        found[name] = match["value"].strip() if match else ""
    for name in ("number", "date", "net_total", "tax_total", "gross_total", "gross_upper"):
        if name in template.fields and not found[name]:
            problem(name, f"no {name} found where the layout has one")
    names = [m["value"] for m in re.finditer(template.party_name, text, re.MULTILINE)]
    tax_ids = [m["value"].upper() for m in re.finditer(template.party_tax_id, text, re.MULTILINE)]
    if len(names) != 2 or len(tax_ids) != 2:
        problem("parties", f"expected a buyer and a seller (2 names, 2 tax ids), found names "
                           f"{names} and tax ids {tax_ids}")
    lines: list[ExtractedLine] = []
    for match in re.finditer(template.line, text, re.MULTILINE):
        try:
            lines.append(_line(match))
        except (ValueError, ArithmeticError) as error:
            problem("lines", f"line {match.group(0)!r}: {error}")
    if not lines:
        problem("lines", "no line items (项目名称 / 货物或应税劳务名称 rows) found")
    if problems:
        return None, problems
    try:
        fields = InvoiceFields(
            layout=template.name, title=found.get("title", ""), number=found["number"],
            code=found.get("code", ""), check_code=re.sub(r"\s", "", found.get("check_code", "")),
            date=parse_date(found["date"]),
            buyer=Party(name=names[0], tax_id=tax_ids[0]),
            seller=Party(name=names[1], tax_id=tax_ids[1]), lines=tuple(lines),
            net_total=parse_money(found["net_total"]), tax_total=parse_tax(found["tax_total"]),
            gross_total=parse_money(found["gross_total"]), gross_upper=found.get("gross_upper", ""),
            remarks=found.get("remarks", ""))
    except (AmountError, ValueError) as error:
        problem(None, str(error))
        return None, problems
    return fields, []
