"""Voucher exports: vouchers.csv (spec/interchange-v1.md 2.3), JSON, and Excel import files for
Kingdee K/3 Cloud (金蝶云星空) and Yonyou U8 (用友). docs/voucher-exports.md says where each
column layout comes from and what is uncertain about it.

    write_export("kingdee", Path("vouchers.xlsx"), stored_vouchers)

Amounts are written as exact decimal text (JSON, CSV) or as Excel numbers; an amount with
more significant digits than an Excel cell holds exactly (15) is refused, never rounded. In
the ERP files the debit and credit columns carry base-currency (本位币) amounts and the
original-currency amount goes in the foreign-amount column, as both ERPs expect.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

from ledger.money import Money
from ledger.posting.stored import StoredVoucher
from ledger.posting.vouchers import CSV_COLUMNS, csv_rows

FORMATS = ("csv", "json", "kingdee", "yonyou")


def _text(amount: Money) -> str:
    return format(amount.amount, "f")


def write_csv(path: Path, vouchers: Sequence[StoredVoucher]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(csv_rows([s.voucher for s in vouchers]))


def voucher_json(stored: StoredVoucher) -> dict:
    voucher, event = stored.voucher, stored.voucher.event
    conversion = voucher.conversion
    return {
        "id": stored.id, "voucher_no": voucher.number or None, "state": stored.state, "word": voucher.word,
        "date": event.date.isoformat(), "period": voucher.period, "event_key": stored.event_key,
        "event_kind": event.kind, "doc_type": event.doc_type, "doc_no": event.doc_no, "currency": event.currency,
        "base_currency": voucher.base_currency, "template_version": voucher.template_version,
        "reversal_of": stored.reversal_of, "prepared_by": stored.prepared_by, "reviewed_by": stored.reviewed_by,
        "posted_by": stored.posted_by,
        "fx": None if conversion is None else {
            "rate": format(conversion.rate, "f"), "source": conversion.source,
            "rate_date": conversion.rate_date.isoformat() if conversion.rate_date else None},
        "lines": [{"line_no": ln.line_no, "account_code": ln.account_code, "account_name": ln.account_name,
                   "debit": _text(ln.debit), "credit": _text(ln.credit), "base_debit": _text(ln.base[0]),
                   "base_credit": _text(ln.base[1]), "summary": ln.summary, "dimensions": dict(ln.dimensions)}
                  for ln in voucher.lines]}


def write_json(path: Path, vouchers: Sequence[StoredVoucher]) -> None:
    """Amounts as strings ("1130.00"): read them back with Decimal, never float."""
    path.write_text(json.dumps({"vouchers": [voucher_json(s) for s in vouchers]}, ensure_ascii=False, indent=1)
                    + "\n", encoding="utf-8")


class ExportError(ValueError):
    pass


#: Excel keeps numbers as IEEE doubles: 15 significant digits survive exactly, more do not
EXCEL_DIGITS = 15


def _number(amount: Money | Decimal) -> Decimal | None:
    """An Excel cell value, refused rather than rounded where Excel cannot hold it exactly."""
    value = amount.amount if isinstance(amount, Money) else amount
    if not value:
        return None
    if len(value.as_tuple().digits) > EXCEL_DIGITS:
        raise ExportError(f"{value} has more than {EXCEL_DIGITS} significant digits, more than an Excel cell "
                          f"holds exactly: export this voucher as csv or json instead")
    return value


#: K/3 Cloud import template (引入模板) of 凭证 GL_VOUCHER: row 1 field keys, row 2 captions.
KINGDEE_COLUMNS = (
    ("FBillHead(GL_VOUCHER)", "*单据头(序号)"), ("FAccountBookID", "*(单据头)账簿#编码"),
    ("FDate", "*(单据头)日期"), ("FBUSDATE", "(单据头)业务日期"), ("FYEAR", "(单据头)会计年度"),
    ("FPERIOD", "(单据头)期间"), ("FVOUCHERGROUPID", "*(单据头)凭证字#编码"),
    ("FVOUCHERGROUPID#Name", "(单据头)凭证字#名称"), ("FVOUCHERGROUPNO", "*(单据头)凭证号"),
    ("FATTACHMENTS", "(单据头)附件数"), ("FACCBOOKORGID", "*(单据头)核算组织#编码"), ("*Split*1", "间隔列"),
    ("FEntity", "*分录(序号)"), ("FEXPLANATION", "(分录)摘要"), ("FACCOUNTID", "*(分录)科目编码#编码"),
    ("FACCOUNTID#Name", "(分录)科目编码#名称"), ("FDetailID#FFlex6", "(分录)客户#编码"),
    ("FDetailID#FFlex4", "(分录)供应商#编码"), ("FDetailID#FFlex5", "(分录)部门#编码"),
    ("FCURRENCYID", "*(分录)币别#编码"), ("FCURRENCYID#Name", "(分录)币别#名称"),
    ("FEXCHANGERATETYPE", "*(分录)汇率类型#编码"), ("FEXCHANGERATE", "(分录)汇率"),
    ("FAMOUNTFOR", "(分录)原币金额"), ("FDEBIT", "(分录)借方金额"), ("FCREDIT", "(分录)贷方金额"),
    ("FBUSNO", "(分录)业务编号"),
)
#: preset codes of a new K/3 Cloud data centre; a company with other codes passes its own
KINGDEE_CURRENCIES = {"CNY": "PRE001", "USD": "PRE007"}
KINGDEE_RATE_TYPE = "HLTX01_SYS"   # 固定汇率


def kingdee_rows(vouchers: Sequence[StoredVoucher], account_book: str = "", org: str = "",
                 word_codes: dict[str, str] | None = None,
                 currency_codes: dict[str, str] | None = None) -> list[list]:
    """One row per line; the voucher's header cells only on its first line, as the template wants."""
    words, currencies = word_codes or {}, {**KINGDEE_CURRENCIES, **(currency_codes or {})}
    rows = []
    for index, stored in enumerate(vouchers, start=1):
        voucher, event = stored.voucher, stored.voucher.event
        rate = voucher.conversion.rate if voucher.conversion else Decimal(1)
        for line in voucher.lines:
            first = line is voucher.lines[0]
            base_debit, base_credit = line.base
            header = [index, account_book, event.date.isoformat(), event.date.isoformat(), event.date.year,
                      event.date.month, words.get(voucher.word, voucher.word), voucher.word, stored.number, 0, org]
            rows.append([*(header if first else [None] * len(header)), None, line.line_no, line.summary,
                         line.account_code, line.account_name, line.dimensions.get("customer"),
                         line.dimensions.get("supplier"), line.dimensions.get("department"),
                         currencies.get(event.currency, event.currency), event.currency, KINGDEE_RATE_TYPE, rate,
                         _number(line.debit if line.debit else line.credit) or Decimal(0), _number(base_debit),
                         _number(base_credit), f"{event.doc_type}:{event.doc_no}"])
    return rows


#: U8 总账 凭证引入: the fields of one entry line, in order (必有部分 first, then 可选部分).
YONYOU_COLUMNS = ("制单日期", "凭证类别字", "业务号", "附单据数", "摘要", "科目编码", "金额借方", "金额贷方", "数量",
                  "外币", "汇率", "制单人", "结算方式", "票号", "发生日期", "部门编码", "个人编码", "客户编码",
                  "供应商编码", "业务员", "项目编码")


def yonyou_rows(vouchers: Sequence[StoredVoucher]) -> list[list]:
    """One row per line; [制单日期 + 凭证类别字 + 业务号] identifies a voucher, its lines together."""
    rows = []
    for stored in vouchers:
        voucher, event = stored.voucher, stored.voucher.event
        foreign = voucher.conversion is not None
        for line in voucher.lines:
            base_debit, base_credit = line.base
            amount = line.debit if line.debit else line.credit
            rows.append([event.date.isoformat(), voucher.word, voucher.number or f"draft-{stored.id}", 0,
                         line.summary, line.account_code, _number(base_debit) or Decimal(0),
                         _number(base_credit) or Decimal(0), None, _number(amount) if foreign else None,
                         voucher.conversion.rate if foreign else None, stored.prepared_by, None, event.doc_no,
                         event.date.isoformat(), line.dimensions.get("department"), None,
                         line.dimensions.get("customer"), line.dimensions.get("supplier"), None,
                         line.dimensions.get("project")])
    return rows


def _workbook(path: Path, title: str, header_rows: Sequence[Sequence], rows: list[list]) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    for header in header_rows:
        sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    book.save(path)


def write_kingdee(path: Path, vouchers: Sequence[StoredVoucher], **options) -> None:
    _workbook(path, "凭证#单据头(FBillHead)", [[k for k, _ in KINGDEE_COLUMNS], [c for _, c in KINGDEE_COLUMNS]],
              kingdee_rows(vouchers, **options))


def write_yonyou(path: Path, vouchers: Sequence[StoredVoucher]) -> None:
    _workbook(path, "凭证", [YONYOU_COLUMNS], yonyou_rows(vouchers))


WRITERS: dict[str, Callable[..., None]] = {"csv": write_csv, "json": write_json, "kingdee": write_kingdee,
                                           "yonyou": write_yonyou}


def write_export(kind: str, path: Path, vouchers: Sequence[StoredVoucher], **options) -> None:
    if kind not in WRITERS:
        raise ValueError(f"unknown export format {kind!r}: expected one of {', '.join(FORMATS)}")
    WRITERS[kind](path, vouchers, **options)
