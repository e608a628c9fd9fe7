"""What runs inside the sandbox: a PDF's or an OFD's text, and an OFD's embedded invoice data.

``read_document(path, kind, limits)`` is the child's entry point; it raises on anything
wrong and the sandbox turns that into a reason. The text of a PDF comes from pdfplumber,
page by page; pdfplumber keeps one line per printed line, so the buyer and seller columns of
a 数电票 arrive interleaved on the same line (``名称:甲 名称:乙``), which the templates expect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors.einvoice.sandbox import Limits


class UnreadableDocument(ValueError):
    """The file is well-formed enough to open but is not something we read."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RawDocument:
    text: str
    pages: int
    embedded: dict[str, object] | None = None


def read_pdf(path: str, limits: Limits) -> RawDocument:
    import pdfplumber  # imported in the child only: the parent never parses PDFs

    with pdfplumber.open(path) as pdf:
        pages = len(pdf.pages)
        if pages > limits.max_pages:
            raise UnreadableDocument(f"{pages} pages, over the {limits.max_pages}-page limit")
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    return RawDocument(text=text, pages=pages)


def read_document(path: str, kind: str, limits: Limits) -> RawDocument:
    if kind == "pdf":
        return read_pdf(path, limits)
    from connectors.einvoice.ofd import read_ofd

    return read_ofd(path, limits)
