"""A seeded generator of realistic Chinese VAT e-invoices, in both layouts, with the fields
each one must read back as: ``random_invoice(seed)`` is a ``Sheet`` to draw (``pdfs``) and
the ``InvoiceFields`` that extraction has to return for it, exactly.

What varies: 数电票 (20-digit number, 普通/专用) or legacy 增值税电子普通/专用发票 (12-digit
code, 8-digit number, 20-digit 校验码 printed in groups of five); the date; buyer and seller
(valid 统一社会信用代码); 1-5 lines of goods or services, with or without 规格型号, 单位,
数量 and 单价, at 13/9/6/3/1 % or 免税/不征税 (tax printed as ``＊＊＊`` or ``***``); the
totals and their 大写; the remarks. The 大写 is written here by its own rules, not by the
parser's, so the cross-check is a real one:

    >>> uppercase(Decimal("1005.00")), uppercase(Decimal("100010.50")), uppercase(Decimal("0.07"))
    ('壹仟零伍圆整', '壹拾万零壹拾圆伍角整', '柒分')
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal

from benchmarks.uscc import make_uscc
from connectors.einvoice.fields import ExtractedLine, InvoiceFields, Party
from tests.connectors.einvoice.pdfs import Sheet

CENT = Decimal("0.01")
_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("仟", "佰", "拾", "")
COMPANIES = ("北京互联三六五科技有限公司", "海南麒麟云服科技有限公司", "上海浦东新区张江实业有限公司",
             "深圳市前海微众数据服务有限公司", "杭州西湖龙井茶业有限公司", "成都天府软件园发展有限公司",
             "广州市白云山医药贸易有限公司", "武汉光谷生物科技股份有限公司", "青岛海尔智家股份有限公司",
             "苏州工业园区精密制造有限公司")
GOODS = (("*计算机配套产品*键盘", "K-100", "个"), ("*计算机配套产品*显示器", "27英寸", "台"),
         ("*纸制品*复印纸", "A4", "箱"), ("*图书*技术手册", "", "本"), ("*农产品*大米", "5kg", "袋"),
         ("*电子元件*电阻", "0603", "千个"), ("*办公用品*签字笔", "0.5mm", "支"))
SERVICES = ("*信息技术服务*技术服务费", "*现代服务*咨询服务费", "*餐饮服务*餐费", "*经纪代理服务*代理费",
            "*运输服务*国内运输费", "*租赁服务*房屋租金")
RATES = ("13%", "9%", "6%", "3%", "1%", "免税", "不征税")
REMARKS = ("合同 HT-2026-88", "订单 SO-1001", "项目 P7 第2期", "", "发票用途：报销", "PO 4500012345")


def uppercase(amount: Decimal) -> str:
    """A non-negative amount in 大写: 亿/万 sections, one 零 for each run of zeros, 圆, then
    角分 or 整."""
    cents = int((amount * 100).to_integral_value())
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    text = _integer(yuan) + "圆" if yuan else ""
    if not jiao and not fen:
        return (text or "零圆") + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif text:
        text += "零"
    return text + (_DIGITS[fen] + "分" if fen else "整")


def _integer(number: int) -> str:
    sections = []
    while number:
        number, section = divmod(number, 10_000)
        sections.append(section)
    text, zero = "", False
    for index in range(len(sections) - 1, -1, -1):
        section = sections[index]
        if not section:
            zero = bool(text)
            continue
        if text and (zero or section < 1000):
            text += "零"
        zero, digits = False, f"{section:04d}"
        for digit, place in zip(digits, _PLACES, strict=True):
            if digit == "0":
                zero = bool(text) and not text.endswith("零")
                continue
            if zero:
                text += "零"
                zero = False
            text += _DIGITS[int(digit)] + place
        text += ("", "万", "亿")[index]
        zero = False
    return text


def _line(rng: random.Random) -> tuple[tuple[str, ...], ExtractedLine]:
    rate = rng.choice(RATES)
    if rng.random() < 0.5:
        item, spec, unit = rng.choice(GOODS)
        quantity = Decimal(rng.randint(1, 500))
        net = (Decimal(rng.randint(100, 2_000_000)) * CENT).quantize(CENT)
        price = (net / quantity).quantize(Decimal("0.00000001"), ROUND_HALF_UP).normalize()
        price_text = f"{price:f}"
        price = Decimal(price_text)
        quantity_text = str(quantity)
    else:
        item, spec, unit = rng.choice(SERVICES), "", rng.choice(("", "次", "项"))
        net = (Decimal(rng.randint(100, 5_000_000)) * CENT).quantize(CENT)
        quantity = price = None
        quantity_text = price_text = ""
    exempt = rate in ("免税", "不征税")
    fraction = Decimal(0) if exempt else Decimal(rate[:-1]) / 100
    tax = (net * fraction).quantize(CENT, ROUND_HALF_UP)
    tax_text = rng.choice(("＊＊＊", "***")) if exempt else str(tax)
    cells = (item, spec, unit, quantity_text, price_text, str(net), rate, tax_text)
    return cells, ExtractedLine(item=item, spec=spec, unit=unit, quantity=quantity,
                                unit_price=price, net_amount=net, tax_rate=fraction,
                                tax_amount=tax, rate_text=rate)


def random_invoice(seed: int, layout: str | None = None) -> tuple[Sheet, InvoiceFields]:
    """An invoice to draw (``pdfs.shudian`` or ``pdfs.legacy`` per ``layout``, chosen by the
    seed when None) and the fields it must be read back as."""
    rng = random.Random(seed)
    layout = layout or rng.choice(("shudian", "legacy"))
    day = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 729))
    buyer_name, seller_name = rng.sample(COMPANIES, 2)
    buyer = Party(name=buyer_name, tax_id=make_uscc(rng))
    seller = Party(name=seller_name, tax_id=make_uscc(rng))
    drawn = [_line(rng) for _ in range(rng.randint(1, 5))]
    net = sum((line.net_amount for _cells, line in drawn), Decimal(0))
    tax = sum((line.tax_amount for _cells, line in drawn), Decimal(0))
    gross = net + tax
    remarks = rng.choice(REMARKS)
    if layout == "shudian":
        title = rng.choice(("电子发票（普通发票）", "电子发票（增值税专用发票）"))
        number = f"{day:%y}" + "".join(rng.choice("0123456789") for _ in range(18))
        code = check_code = printed_check = ""
        template, title_read = "数电票", title.replace("（", "(").replace("）", ")")
    else:
        title = title_read = rng.choice(("增值税电子普通发票", "增值税电子专用发票"))
        number = "".join(rng.choice("0123456789") for _ in range(8))
        code = "0" + "".join(rng.choice("0123456789") for _ in range(11))
        check_code = "".join(rng.choice("0123456789") for _ in range(20))
        printed_check = " ".join(check_code[i:i + 5] for i in range(0, 20, 5))
        template = "增值税电子发票"
    sheet = Sheet(title=title, number=number, date=f"{day.year}年{day.month:02d}月{day.day:02d}日",
                  code=code, check_code=printed_check, buyer=(buyer.name, buyer.tax_id),
                  seller=(seller.name, seller.tax_id), lines=[cells for cells, _line in drawn],
                  net=str(net), tax=str(tax), gross=str(gross), upper=uppercase(gross),
                  remarks=remarks)
    fields = InvoiceFields(
        layout=template, title=title_read, number=number, code=code, check_code=check_code,
        date=day, buyer=buyer, seller=seller, lines=tuple(line for _cells, line in drawn),
        net_total=net, tax_total=tax, gross_total=gross, gross_upper=uppercase(gross),
        remarks=remarks.replace("：", ":"))
    return sheet, fields
