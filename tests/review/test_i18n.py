"""Chinese (the default) is complete: both catalogues hold the same keys with the same
placeholders, every refusal/confirmation the code words has a catalogue entry, and every page
rendered in Chinese asks the catalogue for no key it lacks."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from ledger.storage.tables import ExceptionItemRow
from review.i18n import _PLACEHOLDER, MESSAGES, TEXTS, localise, translator
from tests.review.seed import BOOKS, book_invoice
from tests.review.test_web import item_id, logged_in, site  # noqa: F401 (site is a fixture)

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*sorted((ROOT / "review").glob("*.py")), *sorted((ROOT / "review" / "web").glob("*.py")),
           *(ROOT / "ledger" / "posting" / name for name in ("book.py", "chain.py", "audit.py"))]
ERRORS = {"ActionError", "BookError", "AuthError", "RoleError", "Refused", "Done", "BrokenAudit", "Broken"}


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    assert set(MESSAGES["zh"]) == set(MESSAGES["en"])
    for key, english in MESSAGES["en"].items():
        assert sorted(_PLACEHOLDER.findall(english)) == sorted(_PLACEHOLDER.findall(MESSAGES["zh"][key])), key


def _shapes(node: ast.expr) -> list[str]:
    """The texts a message expression can have, each value it formats as {}."""
    if isinstance(node, ast.IfExp):
        return _shapes(node.body) + _shapes(node.orelse)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return ["".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)]
    return []          # a catalogue call such as ctx.t("not_found"), or a value passed on


def worded_messages() -> list[tuple[str, str]]:
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ERRORS and node.args:
                message = node.args[-1] if node.func.id in ("Refused", "BrokenAudit", "Broken") else node.args[0]
                found += [(f"{path.name}:{node.lineno}", shape) for shape in _shapes(message)]
    return found


def test_every_message_the_code_words_is_in_the_catalogue() -> None:
    known = {_PLACEHOLDER.sub("{}", english) for english, _zh in TEXTS.values()}
    found = worded_messages()
    assert len(found) > 60
    missing = [(where, text) for where, text in found if text not in known and re.search(r"[a-z]{3}", text)]
    assert missing == []


def test_localise_renders_the_reader_s_language_and_keeps_the_values() -> None:
    assert localise("voucher 12: li prepared it and cannot post it (segregation of duties)", "zh") \
        == "凭证 12：li 是制单人，不能记账（不相容职务分离）"
    assert localise("exception 3 is resolved already", "zh") == "异常 3 已是已解决状态"
    assert localise("exception 3 is resolved already", "en") == "exception 3 is resolved already"
    assert localise("something nobody wrote", "zh") == "something nobody wrote"


@pytest.fixture
def recorded(monkeypatch) -> dict[str, set[str]]:
    import review.web.app as web_app

    missing: dict[str, set[str]] = {"zh": set(), "en": set()}
    monkeypatch.setattr(web_app, "translator", lambda lang: translator(lang, missing.setdefault(lang, set())))
    return missing


def test_every_page_in_chinese_and_english_uses_only_catalogue_keys(recorded, site) -> None:  # noqa: F811
    from review import actions
    from review.actions import Actor

    engine, app = site
    book_invoice(engine, BOOKS, "INV-3", posted=True)
    short = item_id(engine, "SHORT_PAYMENT")
    with engine.connect() as connection:
        version = connection.execute(select(ExceptionItemRow.__table__.c.version).where(
            ExceptionItemRow.__table__.c.id == short)).scalar_one()
    drafted = actions.write_off(engine, BOOKS, short, version, Actor("reviewer2", "reviewer"), "0.50", "rounding")
    for lang in ("zh", "en"):
        http, csrf = logged_in(app, "all1")
        admin, _ = logged_in(app, "it_admin1")
        with engine.connect() as connection:
            items = connection.execute(select(ExceptionItemRow.__table__.c.id)).scalars().all()
        pages = ["/queue", "/queue?status=resolved", "/vouchers", f"/vouchers/{drafted.voucher_ids[0]}", "/dashboard",
                 "/autonomy", "/audit", "/chain?doc_type=sales_invoice&doc_no=INV-1", "/items/999999",
                 *[f"/items/{n}" for n in items]]
        for path in pages:
            response = http.get(f"{path}{'&' if '?' in path else '?'}lang={lang}")
            assert response.status_code in (200, 404), (path, response.status_code)
        assert admin.get(f"/connectors?lang={lang}").status_code == 200
        login = http.__class__(app, follow_redirects=False)
        assert login.get(f"/login?lang={lang}").status_code == 200
        refused = http.post(f"/items/{short}/write-off?lang={lang}", data={"amount": "1", "reason": "x",
                                                                         "version": "1", "csrf_token": csrf})
        assert refused.status_code in (400, 409)
        bulk = http.post(f"/bulk?lang={lang}", data={"action": "assign", "assignee": "me", "csrf_token": csrf,
                                                      "item": [f"{items[0]}:999"]})
        assert bulk.status_code == 200
        if lang == "zh":
            assert "抢先处理" in bulk.text and "changed before your action" not in bulk.text
    assert recorded == {"zh": set(), "en": set()}
