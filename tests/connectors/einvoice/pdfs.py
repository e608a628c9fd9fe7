"""Realistic VAT e-invoice PDFs for tests, drawn with reportlab's built-in STSong-Light CID font
(no font file needed; pdfplumber reads the Chinese back through pdfminer's bundled CMaps).

Layouts follow the real ones: a 数电票 has the buyer and seller blocks side by side, so their
``名称`` / ``纳税人识别号`` lines interleave; a legacy invoice has the buyer block on top and
the seller block at the bottom, with spaced labels (``名    称``, ``校 验 码``) and full-width
colons. Item lines are drawn column by column like the real grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
COLUMNS = (40, 200, 260, 290, 320, 420, 480, 530)  # item spec unit qty price amount rate tax

BUYER_ID = "91110108690017781B"
SELLER_ID = "91460300MAA92DJN95"


@dataclass
class Sheet:
    title: str
    number: str
    date: str = "2026年11月01日"
    code: str = ""
    check_code: str = ""
    buyer: tuple[str, str] = ("北京互联三六五科技有限公司", BUYER_ID)
    seller: tuple[str, str] = ("海南麒麟云服科技有限公司", SELLER_ID)
    lines: list[tuple[str, ...]] = field(default_factory=list)
    net: str = ""
    tax: str = ""
    gross: str = ""
    upper: str = ""
    remarks: str = ""


def _row(page: canvas.Canvas, y: float, cells: tuple[str, ...]) -> None:
    for x, text in zip(COLUMNS, cells, strict=True):
        if text:
            page.drawString(x, y, text)


def _items(page: canvas.Canvas, sheet: Sheet, y: float, first: str) -> float:
    _row(page, y, (first, "规格型号", "单 位", "数 量", "单 价", "金 额", "税率/征收率", "税 额"))
    for line in sheet.lines:
        y -= 16
        _row(page, y, line)
    page.drawString(40, y - 20, "合       计")
    page.drawString(410, y - 20, f"¥{sheet.net}")
    page.drawString(530, y - 20, f"￥{sheet.tax}")
    page.drawString(40, y - 38, "价税合计（大写）")
    page.drawString(160, y - 38, f"⊗{sheet.upper}")
    page.drawString(420, y - 38, f"（小写）¥{sheet.gross}")
    return y - 56


def _page(path: Path, height: int) -> canvas.Canvas:
    page = canvas.Canvas(str(path), pagesize=(620, height))
    page.setFont(FONT, 9)
    return page


def _draw(page: canvas.Canvas, cells: list[tuple[float, float, str]]) -> None:
    for x, y, text in cells:
        page.drawString(x, y, text)


def shudian(path: Path, sheet: Sheet) -> Path:
    """A 数电票: title, number and date top right, buyer | seller side by side."""
    page = _page(path, 420)
    _draw(page, [
        (220, 390, sheet.title),
        (450, 380, f"发票号码：{sheet.number}"),
        (450, 366, f"开票日期：{sheet.date}"),
        (30, 340, "购"),
        (40, 340, f"名称：{sheet.buyer[0]}"),
        (320, 340, "销"),
        (330, 340, f"名称：{sheet.seller[0]}"),
        (40, 324, f"统一社会信用代码/纳税人识别号：{sheet.buyer[1]}"),
        (330, 324, f"统一社会信用代码/纳税人识别号：{sheet.seller[1]}"),
    ])
    y = _items(page, sheet, 296, "项目名称")
    _draw(page, [
        (40, y, f"备    注：{sheet.remarks}"),
        (40, y - 20, "开票人：张三"),
    ])
    page.save()
    return path


def legacy(path: Path, sheet: Sheet) -> Path:
    """A 增值税电子普通发票: code, number, date, 校验码; buyer on top, seller at the bottom."""
    page = _page(path, 460)
    _draw(page, [
        (220, 430, sheet.title),
        (450, 430, f"发票代码：{sheet.code}"),
        (450, 416, f"发票号码：{sheet.number}"),
        (450, 402, f"开票日期：{sheet.date}"),
        (40, 388, "机器编号：499099660821"),
        (450, 388, f"校 验 码：{sheet.check_code}"),
        (40, 366, f"购 名    称：{sheet.buyer[0]}"),
        (320, 366, "密 03*5<+48>5/1"),
        (40, 352, f"买 纳税人识别号：{sheet.buyer[1]}"),
        (40, 338, "方 地 址、电 话：北京市海淀区 010-12345678"),
    ])
    y = _items(page, sheet, 312, "货物或应税劳务、服务名称")
    _draw(page, [
        (40, y, f"销 名    称：{sheet.seller[0]}"),
        (380, y, f"备 注：{sheet.remarks}"),
        (40, y - 14, f"售 纳税人识别号：{sheet.seller[1]}"),
        (40, y - 34, "收款人：李四  复核：王五  开票人：张三  销售方：（章）"),
    ])
    page.save()
    return path
