"""Hostile files: refused before parsing, or stopped in the child; the run always goes on."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest

from connectors.contract import Record, Skipped
from connectors.einvoice.connector import EInvoiceConnector
from connectors.einvoice.readers import RawDocument
from connectors.einvoice.sandbox import Limits, SandboxPool, read_isolated
from tests.connectors.einvoice.pdfs import SELLER_ID


def sleeping_worker(path: str, kind: str, limits: Limits) -> RawDocument:
    """A parser that never finishes, as a hostile PDF can make one."""
    time.sleep(600)
    raise AssertionError("unreachable")


def problems(tmp_path: Path, name: str, data: bytes, **limits: object) -> list[str]:
    (tmp_path / name).write_bytes(data)
    connector = EInvoiceConnector.from_options(
        {"path": str(tmp_path), "company_tax_id": SELLER_ID, "limits": limits})
    items = list(connector.fetch())
    assert all(isinstance(item, Skipped) for item in items), items
    return [item.problem.message for item in items if isinstance(item, Skipped)]


def test_too_big_is_refused(tmp_path: Path) -> None:
    messages = problems(tmp_path, "big.pdf", b"%PDF-1.7\n" + b"0" * 100, max_bytes=50)
    assert messages == ["UNPARSEABLE_DOCUMENT: big.pdf: file is 109 bytes, over the 50-byte limit"]


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("fake.pdf", b"<html>not a pdf</html>", "not a PDF file: it starts with b'<html'"),
    ("fake.ofd", b"%PDF-1.7 not a zip", "not a OFD file: it starts with b'%PDF'"),
])
def test_wrong_magic_is_refused(tmp_path: Path, name: str, data: bytes, expected: str) -> None:
    assert [expected in message for message in problems(tmp_path, name, data)] == [True]


def test_corrupt_pdf_is_unparseable(tmp_path: Path) -> None:
    (message,) = problems(tmp_path, "corrupt.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ngarbage")
    assert message.startswith("UNPARSEABLE_DOCUMENT: corrupt.pdf: cannot parse it (")


def test_child_over_the_wall_limit_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "slow.pdf"
    path.write_bytes(b"%PDF-1.7\n")
    result = read_isolated(path, "pdf", Limits(wall_seconds=1), worker=sleeping_worker)
    assert result == "parsing took longer than 1 s and was stopped"


def test_connector_goes_on_after_a_killed_child(tmp_path: Path) -> None:
    (tmp_path / "a-slow.pdf").write_bytes(b"%PDF-1.7\n")
    (tmp_path / "b-bad.ofd").write_bytes(b"nope")
    connector = EInvoiceConnector.from_options(
        {"path": str(tmp_path), "company_tax_id": SELLER_ID, "limits": {"wall_seconds": 1}})
    connector.worker = sleeping_worker
    items = list(connector.fetch())
    assert [item.problem.file for item in items if isinstance(item, Skipped)] == [
        "a-slow.pdf", "b-bad.ofd"]
    assert not any(isinstance(item, Record) for item in items)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_bomb_and_member_flood_are_refused(tmp_path: Path) -> None:
    bomb = _zip({"Doc_0/Pages/Page_0/Content.xml": b"<a>" + b" " * 5_000_000 + b"</a>"})
    (message,) = problems(tmp_path, "bomb.ofd", bomb, max_zip_bytes=1_000_000)
    assert "over 1000000 bytes uncompressed" in message
    (tmp_path / "bomb.ofd").unlink()
    flood = _zip({f"Doc_0/Res/{n}.xml": b"<a/>" for n in range(20)})
    (message,) = problems(tmp_path, "flood.ofd", flood, max_zip_members=10)
    assert "20 zip members, over the 10 limit" in message


def test_too_many_pages_and_hostile_xml(tmp_path: Path) -> None:
    pages = {f"Doc_0/Pages/Page_{n}/Content.xml": b"<Page/>" for n in range(3)}
    (message,) = problems(tmp_path, "long.ofd", _zip(pages), max_pages=2)
    assert "3 pages, over the 2-page limit" in message
    (tmp_path / "long.ofd").unlink()
    entities = (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>')
    (message,) = problems(tmp_path, "evil.ofd", _zip({"Doc_0/Pages/Page_0/Content.xml": entities}))
    assert "EntitiesForbidden" in message


def test_limits_reject_unknown_keys() -> None:
    with pytest.raises(ValueError, match="extra"):
        EInvoiceConnector.Config.model_validate(
            {"path": ".", "company_tax_id": SELLER_ID, "limits": {"max_megabytes": 1}})


def test_truncated_and_encrypted_pdfs_are_unparseable(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    from tests.connectors.einvoice.pdfs import shudian
    from tests.connectors.einvoice.test_pdf_invoices import SHUDIAN

    (tmp_path / "source").mkdir()
    whole = shudian(tmp_path / "source" / "whole.pdf", SHUDIAN).read_bytes()
    (tmp_path / "source" / "whole.pdf").unlink()
    (tmp_path / "cut").mkdir()
    (message,) = problems(tmp_path / "cut", "truncated.pdf", whole[: len(whole) // 2])
    assert message.startswith("UNPARSEABLE_DOCUMENT: truncated.pdf:")
    locked = io.BytesIO()
    page = canvas.Canvas(locked, encrypt="secret")
    page.drawString(100, 700, "locked")
    page.save()
    (tmp_path / "locked").mkdir()
    (message,) = problems(tmp_path / "locked", "encrypted.pdf", locked.getvalue())
    assert message.startswith("UNPARSEABLE_DOCUMENT: encrypted.pdf:")


def test_a_jpeg_named_pdf_is_refused_before_parsing(tmp_path: Path) -> None:
    (message,) = problems(tmp_path, "photo.pdf", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 100)
    assert "UNPARSEABLE_DOCUMENT: photo.pdf:" in message and "PDF" in message


def burning_worker(path: str, kind: str, limits: Limits) -> RawDocument:
    """Spends the CPU seconds the file's name says, then reports its process id."""
    import os

    seconds = float(Path(path).stem.split("-")[-1])
    started = time.process_time()
    while time.process_time() - started < seconds:
        pass
    return RawDocument(text=str(os.getpid()), pages=1)


def hungry_worker(path: str, kind: str, limits: Limits) -> RawDocument:
    """Asks for 2 GiB, as a decompression bomb inside a PDF would."""
    import os

    if "hungry" in path:
        _ = bytearray(2 * 1024**3)
    return RawDocument(text=str(os.getpid()), pages=1)


def _pdf(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(b"%PDF-1.7\n")
    return path


def test_pool_children_read_many_files_with_the_cpu_limit_per_file(tmp_path: Path) -> None:
    limits = Limits(cpu_seconds=1, wall_seconds=60)
    with SandboxPool(limits, burning_worker) as pool:
        first = pool.read(_pdf(tmp_path, "a-0.6.pdf"), "pdf")
        second = pool.read(_pdf(tmp_path, "b-0.6.pdf"), "pdf")  # 1.2 s in all, 0.6 s for this file
        assert isinstance(first, RawDocument) and isinstance(second, RawDocument)
        assert first.text == second.text  # the same child read both
        killed = pool.read(_pdf(tmp_path, "c-5.pdf"), "pdf")
        assert isinstance(killed, str) and "the parser died" in killed and "CPU limit 1 s" in killed
        after = pool.read(_pdf(tmp_path, "d-0.pdf"), "pdf")
        assert isinstance(after, RawDocument) and after.text != first.text  # a fresh child
        assert pool.cpu_seconds >= 1.2


def test_pool_child_over_the_memory_limit_is_replaced(tmp_path: Path) -> None:
    with SandboxPool(Limits(), hungry_worker) as pool:
        before = pool.read(_pdf(tmp_path, "before.pdf"), "pdf")
        failed = pool.read(_pdf(tmp_path, "hungry.pdf"), "pdf")
        after = pool.read(_pdf(tmp_path, "after.pdf"), "pdf")
    assert isinstance(failed, str) and "MemoryError" in failed
    assert isinstance(before, RawDocument) and isinstance(after, RawDocument)
    assert before.text != after.text  # never the child that failed


def test_pool_wall_limit_holds_for_each_file_and_the_next_file_is_read(tmp_path: Path) -> None:
    with SandboxPool(Limits(wall_seconds=1), sleeping_worker) as pool:
        assert pool.read(_pdf(tmp_path, "a.pdf"), "pdf") == "parsing took longer than 1 s and was stopped"
        assert pool.read(_pdf(tmp_path, "b.pdf"), "pdf") == "parsing took longer than 1 s and was stopped"
