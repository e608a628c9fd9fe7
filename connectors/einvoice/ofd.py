"""OFD e-invoices (GB/T 33190: a zip of XML): embedded invoice data first, else the text layer.

Issuers attach the structured invoice (``Doc_0/Attachs/original_invoice.xml``, root
``eInvoice`` with ``fp:InvoiceNo``, ``fp:Buyer/fp:BuyerName``, ``fp:GoodsInfos`` ...). When
it is absent, the text layer is rebuilt as lines: every ``TextObject`` of the page and of
its templates is placed at its ``Boundary`` origin plus its ``TextCode`` X/Y, objects whose
baselines lie within ``LINE_TOLERANCE`` mm form one line, read left to right:

    Boundary="36 30 82.5 5.8" TextCode Y="4.4875" "科游迈利有限公司"   -> (y 34.5, x 36)
    Boundary="10 30.5 20 5"   TextCode Y="4.2"    "名称:"             -> (y 34.7, x 10)
    line at y≈34.6:  "名称: 科游迈利有限公司"

The zip is read defensively: at most ``max_zip_members`` members and ``max_zip_bytes``
uncompressed in all (checked on the bytes actually inflated, not the headers' claims), and
XML through defusedxml (no entities, no external references).
"""

from __future__ import annotations

import re
import zipfile
from decimal import Decimal
from typing import TYPE_CHECKING

from defusedxml import ElementTree

from connectors.einvoice.amounts import parse_money
from connectors.einvoice.fields import ExtractedLine, InvoiceFields, Party, parse_date, parse_rate, parse_tax
from connectors.einvoice.readers import RawDocument, UnreadableDocument
from ledger.errors import BadInput

if TYPE_CHECKING:
    from connectors.einvoice.sandbox import Limits

LINE_TOLERANCE = 2.0
_PAGE = re.compile(r"^Doc_\d+/Pages/Page_\d+/Content\.xml$")
_TEMPLATE = re.compile(r"^Doc_\d+/Tpls/Tpl_\d+/Content\.xml$")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _members(archive: zipfile.ZipFile, limits: Limits) -> dict[str, bytes]:
    infos = [info for info in archive.infolist() if not info.is_dir()]
    if len(infos) > limits.max_zip_members:
        raise UnreadableDocument(f"{len(infos)} zip members, over the {limits.max_zip_members} limit")
    budget = limits.max_zip_bytes
    members: dict[str, bytes] = {}
    for info in infos:
        if not info.filename.lower().endswith(".xml"):
            continue
        with archive.open(info) as handle:
            data = handle.read(budget + 1)
        budget -= len(data)
        if budget < 0:
            raise UnreadableDocument(f"over {limits.max_zip_bytes} bytes uncompressed (zip bomb?)")
        members[info.filename] = data
    return members


def embedded_invoice(members: dict[str, bytes]) -> dict[str, object] | None:
    """The attached ``eInvoice`` as ``{field: text}`` plus ``goods``: a list of line dicts."""
    for name in sorted(members):
        if "/Attachs/" not in name or name.endswith("Attachments.xml"):
            continue
        root = ElementTree.fromstring(members[name])
        if _local(root.tag) != "eInvoice":
            continue
        data: dict[str, object] = {}
        goods: list[dict[str, str]] = []
        for element in root.iter():
            tag = _local(element.tag)
            if tag == "GoodsInfo":
                goods.append({_local(c.tag): (c.text or "").strip() for c in element})
            elif len(element) == 0:
                data.setdefault(tag, (element.text or "").strip())
        if data.get("InvoiceNo"):
            data["goods"] = goods
            return data
    return None


def _text_objects(xml: bytes) -> list[tuple[float, float, str]]:
    placed = []
    for element in ElementTree.fromstring(xml).iter():
        if _local(element.tag) != "TextObject":
            continue
        box = [float(v) for v in (element.get("Boundary") or "0 0 0 0").split()[:2]]
        for code in element:
            if _local(code.tag) == "TextCode" and (code.text or "").strip():
                x = box[0] + float(code.get("X") or 0)
                y = box[1] + float(code.get("Y") or 0)
                placed.append((y, x, code.text.strip()))
    return placed


def text_layer(members: dict[str, bytes]) -> str:
    """The pages' and templates' text, rebuilt into lines (top to bottom, left to right)."""
    placed = [item for name, xml in sorted(members.items())
              if _PAGE.match(name) or _TEMPLATE.match(name) for item in _text_objects(xml)]
    lines: list[list[tuple[float, float, str]]] = []
    for item in sorted(placed):
        if lines and item[0] - lines[-1][0][0] <= LINE_TOLERANCE:
            lines[-1].append(item)
        else:
            lines.append([item])
    return "\n".join(" ".join(text for _y, _x, text in sorted(line, key=lambda i: i[1]))
                     for line in lines)


def read_ofd(path: str, limits: Limits) -> RawDocument:
    with zipfile.ZipFile(path) as archive:
        members = _members(archive, limits)
    pages = sum(1 for name in members if _PAGE.match(name))
    if pages > limits.max_pages:
        raise UnreadableDocument(f"{pages} pages, over the {limits.max_pages}-page limit")
    if not pages:
        raise UnreadableDocument("no Doc_N/Pages/Page_N/Content.xml: not an OFD document")
    return RawDocument(text=text_layer(members), pages=pages, embedded=embedded_invoice(members))


def fields_from_embedded(data: dict[str, object], file: str) -> tuple[InvoiceFields | None,
                                                                     list[BadInput]]:
    """``InvoiceFields`` from an attached ``eInvoice``; it has no 大写 amount to cross-check."""
    def text(name: str) -> str:
        value = data.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    goods = data.get("goods")
    try:
        lines = tuple(ExtractedLine(
            item=good.get("Item", ""), spec=good.get("Specification", ""),
            unit=good.get("MeasurementDimension", ""),
            quantity=Decimal(good["Quantity"]) if good.get("Quantity") else None,
            unit_price=Decimal(good["Price"]) if good.get("Price") else None,
            net_amount=parse_money(good.get("Amount", "")),
            tax_rate=parse_rate(good.get("TaxScheme", "")),
            tax_amount=parse_tax(good.get("TaxAmount", "")), rate_text=good.get("TaxScheme", ""))
            for good in (goods if isinstance(goods, list) else []))
        fields = InvoiceFields(
            layout="OFD eInvoice XML", title="", number=text("InvoiceNo"),
            code=text("InvoiceCode"), check_code=text("InvoiceCheckCode"),
            date=parse_date(text("IssueDate")),
            buyer=Party(name=text("BuyerName"), tax_id=text("BuyerTaxID").upper()),
            seller=Party(name=text("SellerName"), tax_id=text("SellerTaxID").upper()),
            lines=lines, net_total=parse_money(text("TaxExclusiveTotalAmount")),
            tax_total=parse_tax(text("TaxTotalAmount")),
            gross_total=parse_money(text("TaxInclusiveTotalAmount")), gross_upper="",
            remarks=text("Note"))
    except (ValueError, ArithmeticError) as error:
        return None, [BadInput(file=file, row=None, field=None,
                               message=f"embedded invoice XML: {error}")]
    if not lines:
        return None, [BadInput(file=file, row=None, field="lines",
                               message="embedded invoice XML: no GoodsInfo lines")]
    return fields, []
