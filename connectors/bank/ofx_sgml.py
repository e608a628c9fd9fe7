"""OFX bytes into an element tree: the 1.x SGML headers and markup, or 2.x XML.

OFX 1.x leaves leaf elements unclosed. A tag followed by text is a leaf; a tag followed
by nothing opens an aggregate when it is one the statement is read from, or when the file
closes that name somewhere and it is not a known leaf, so an empty ``<MEMO>`` stays a leaf:

    >>> tree = sgml_tree("<OFX><STMTTRN><TRNAMT>-1.50<MEMO><NAME>A &amp; B</STMTTRN></OFX>")
    >>> [(e.tag, e.text) for e in tree.find("STMTTRN")]
    [('TRNAMT', '-1.50'), ('MEMO', ''), ('NAME', 'A & B')]

Encoding: the header's ``ENCODING`` (USASCII, UTF-8) and ``CHARSET`` (1252, ISO-8859-1,
NONE) for 1.x, the XML declaration for 2.x (UTF-8 when absent); bytes are decoded
strictly and a byte the declared encoding cannot decode is an ``OfxError``, never dropped.
XML is read with defusedxml: no DTDs, no entity expansion, no network.
"""

from __future__ import annotations

import codecs
import re
from html import unescape
from xml.etree.ElementTree import Element, ParseError, SubElement

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

_TOKEN = re.compile(r"<(/?)([A-Za-z0-9._]+)>([^<]*)")
_XML_ENCODING = re.compile(rb"<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_LEAVES = frozenset({
    "ACCTID", "ACCTTYPE", "BALAMT", "BANKID", "CHECKNUM", "CODE", "CURDEF", "CURRATE", "CURSYM",
    "DTASOF", "DTAVAIL", "DTEND", "DTPOSTED", "DTSERVER", "DTSTART", "DTUSER", "FITID",
    "LANGUAGE", "MEMO", "MESSAGE", "NAME", "PAYEEID", "REFNUM", "SEVERITY", "SIC", "TRNAMT",
    "TRNTYPE", "TRNUID"})
#: Aggregates the statement is read from: always opened, so a missing end tag is an error.
_AGGREGATES = frozenset({
    "OFX", "BANKMSGSRSV1", "CREDITCARDMSGSRSV1", "STMTTRNRS", "CCSTMTTRNRS", "STMTRS", "CCSTMTRS",
    "BANKACCTFROM", "CCACCTFROM", "BANKTRANLIST", "STMTTRN", "LEDGERBAL"})


class OfxError(ValueError):
    """The file cannot be read as OFX at all: its bytes, header or markup."""


def read_tree(data: bytes) -> tuple[Element, str]:
    """The ``<OFX>`` element and the name of the encoding the bytes were decoded with."""
    body = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if body.startswith(b"<?xml") or body.startswith(b"<?OFX"):
        return _xml_tree(body)
    start = body.find(b"<")
    if start < 0:
        raise OfxError("no OFX markup: the file has no '<'")
    headers = _headers(body[:start])
    if body[:start].strip() and "OFXHEADER" not in headers:
        raise OfxError("the text before the first '<' is not an OFX header (no OFXHEADER:)")
    encoding = _codec(headers.get("ENCODING", ""), headers.get("CHARSET", ""))
    text = _decode(body, encoding, "the header")
    return sgml_tree(text[text.index("<"):]), encoding


def _headers(block: bytes) -> dict[str, str]:
    try:
        text = block.decode("ascii", errors="strict")
    except UnicodeDecodeError as error:
        raise OfxError(f"byte {block[error.start]:#04x} at offset {error.start} in the OFX "
                       f"header is not ASCII") from None
    headers: dict[str, str] = {}
    for line in text.splitlines():
        key, colon, value = line.partition(":")
        if line.strip() and not colon:
            raise OfxError(f"header line {line.strip()!r} is not KEY:VALUE")
        if colon:
            headers[key.strip().upper()] = value.strip()
    return headers


def _codec(encoding: str, charset: str) -> str:
    encoding, charset = encoding.upper(), charset.upper()
    if encoding in ("UTF-8", "UTF8", "UNICODE"):
        return "utf-8"
    if encoding not in ("USASCII", ""):
        raise OfxError(f"unknown header ENCODING:{encoding} (expected USASCII or UTF-8)")
    if charset in ("", "NONE"):
        return "ascii"
    name = ("cp" + charset if charset.isdecimal()
            else "iso" + charset if charset.startswith("8859") else charset)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        raise OfxError(f"unknown header CHARSET:{charset} (expected 1252, ISO-8859-1 or "
                       f"NONE)") from None


def _decode(data: bytes, encoding: str, declared_by: str) -> str:
    try:
        return data.decode(encoding, errors="strict")
    except UnicodeDecodeError as error:
        raise OfxError(f"byte {data[error.start]:#04x} at offset {error.start} is not valid "
                       f"{encoding}, the encoding {declared_by} declares; the file is not "
                       f"read") from None


def _xml_tree(body: bytes) -> tuple[Element, str]:
    declared = _XML_ENCODING.search(body[:200])
    name = declared[1].decode() if declared else "utf-8"
    try:
        encoding = codecs.lookup(name).name
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        raise OfxError(f"unknown encoding {name!r} in the XML declaration") from None
    _decode(body, encoding, "the XML declaration")
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as error:
        raise OfxError(f"not readable XML: {error}") from None
    for element in root.iter():
        if isinstance(element.tag, str):
            element.tag = element.tag.rsplit("}", 1)[-1].upper()
    if root.tag != "OFX":
        raise OfxError(f"the XML root is <{root.tag}>, expected <OFX>")
    return root, encoding


def sgml_tree(text: str) -> Element:
    """The ``<OFX>`` element of OFX 1.x markup, leaf elements closed."""
    tokens = list(_TOKEN.finditer(text))
    closed = {match[2].upper() for match in tokens if match[1]}
    document = Element("document")
    stack = [document]
    last_leaf: Element | None = None
    position = 0
    for match in tokens:
        if text[position:match.start()].strip():
            raise OfxError(f"unreadable markup {text[position:position + 30]!r}")
        position = match.end()
        slash, name, value = match[1], match[2].upper(), unescape(match[3]).strip()
        if slash:
            if any(element.tag == name for element in stack[1:]):
                while stack.pop().tag != name:
                    pass
            elif last_leaf is None or last_leaf.tag != name:
                raise OfxError(f"</{name}> closes no open element")
            last_leaf = None
            continue
        element = SubElement(stack[-1], name)
        if name not in _AGGREGATES and (value or name in _LEAVES or name not in closed):
            element.text, last_leaf = value, element
        else:
            stack.append(element)
            last_leaf = None
    if text[position:].strip():
        raise OfxError(f"unreadable markup {text[position:position + 30]!r}")
    if len(stack) > 1:
        raise OfxError(f"<{stack[-1].tag}> is never closed")
    root = document.find("OFX")
    if root is None:
        raise OfxError("no <OFX> element")
    return root
