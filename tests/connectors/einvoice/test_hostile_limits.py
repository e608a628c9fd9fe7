"""The default limits (20 MB, 50 pages) and fuzzed PDF and OFD bytes: whatever a file holds,
the sandbox answers with a document or a reason, and the connector with records or
UNPARSEABLE_DOCUMENT problems, never an exception."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reportlab.pdfgen import canvas

from connectors.contract import Skipped
from connectors.einvoice.connector import EInvoiceConnector
from connectors.einvoice.readers import RawDocument
from connectors.einvoice.sandbox import Limits, SandboxPool
from tests.connectors.einvoice.generator import random_invoice
from tests.connectors.einvoice.pdfs import shudian

COMPANY = random_invoice(0)[1].seller.tax_id


def _messages(folder: Path) -> list[str]:
    items = list(EInvoiceConnector.from_options({"path": str(folder), "company_tax_id": COMPANY}).fetch())
    assert all(isinstance(item, Skipped) for item in items), items
    return [item.problem.message for item in items]  # type: ignore[union-attr]


def test_default_limits_refuse_files_over_20_mb_and_over_50_pages(tmp_path: Path) -> None:
    assert (Limits().max_bytes, Limits().max_pages) == (20 * 1024 * 1024, 50)
    big = tmp_path / "big.pdf"
    with big.open("wb") as handle:
        handle.write(b"%PDF-1.7\n")
        handle.truncate(20 * 1024 * 1024 + 1)  # sparse: costs no disk
    long_pdf = io.BytesIO()
    page = canvas.Canvas(long_pdf)
    for number in range(51):
        page.drawString(100, 700, f"page {number}")
        page.showPage()
    page.save()
    (tmp_path / "long.pdf").write_bytes(long_pdf.getvalue())
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as ofd:
        for number in range(51):
            ofd.writestr(f"Doc_0/Pages/Page_{number}/Content.xml", "<Page/>")
    (tmp_path / "long.ofd").write_bytes(archive.getvalue())
    assert _messages(tmp_path) == [
        "UNPARSEABLE_DOCUMENT: big.pdf: file is 20971521 bytes, over the 20971520-byte limit",
        "UNPARSEABLE_DOCUMENT: long.ofd: cannot parse it (UnreadableDocument: 51 pages, over the "
        "50-page limit)",
        "UNPARSEABLE_DOCUMENT: long.pdf: cannot parse it (UnreadableDocument: 51 pages, over the "
        "50-page limit)"]


def _ofd(content: bytes) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as ofd:
        ofd.writestr("OFD.xml", "<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'/>")
        ofd.writestr("Doc_0/Pages/Page_0/Content.xml", content)
    return archive.getvalue()


def _damaged(sample: bytes) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.integers(5, len(sample)).map(lambda n: sample[:n]),
        st.tuples(st.integers(5, len(sample) - 1), st.binary(min_size=1, max_size=16)).map(
            lambda t: sample[:t[0]] + t[1] + sample[t[0] + len(t[1]):]),
        st.binary(max_size=200).map(lambda tail: sample[:5] + tail))


def test_fuzzed_pdf_and_ofd_files_give_a_document_or_a_reason(tmp_path: Path) -> None:
    pdf = shudian(tmp_path / "seed.pdf", random_invoice(1, "shudian")[0]).read_bytes()
    ofd = _ofd('<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer>'
               '<ofd:TextObject Boundary="10 10 50 5"><ofd:TextCode X="0" Y="4">发票号码:1</ofd:TextCode>'
               "</ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>".encode())
    limits = Limits(wall_seconds=20)
    with SandboxPool(limits) as pool:
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        @given(st.sampled_from(["pdf", "ofd"]).flatmap(
            lambda kind: st.tuples(st.just(kind), _damaged(pdf if kind == "pdf" else ofd))))
        def read(case: tuple[str, bytes]) -> None:
            kind, data = case
            path = tmp_path / f"fuzz.{kind}"
            path.write_bytes(data)
            result = pool.read(path, kind)  # type: ignore[arg-type]
            assert isinstance(result, RawDocument | str)

        read()
    for kind, data in (("pdf", pdf[: len(pdf) // 3]), ("ofd", ofd[:-30])):
        (tmp_path / "folder").mkdir(exist_ok=True)
        (tmp_path / "folder" / f"cut.{kind}").write_bytes(data)
    assert all(m.startswith("UNPARSEABLE_DOCUMENT: cut.") for m in _messages(tmp_path / "folder"))


def test_ofd_with_entity_expansion_or_external_entities_is_refused(tmp_path: Path) -> None:
    from tests.connectors.bank.test_statement_properties import LAUGHS

    cases = {"laughs.ofd": LAUGHS.replace(b"{root}", b"Page"),
             "external.ofd": b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                             b"<Page>&x;</Page>"}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(_ofd(content))
    messages = _messages(tmp_path)
    assert len(messages) == 2
    assert all("UNPARSEABLE_DOCUMENT" in m and "EntitiesForbidden" in m for m in messages), messages
