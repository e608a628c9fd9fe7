"""The web UI through its ASGI app: every route × every role against the checked-in table
(tests/review/route_roles.csv), CSRF, escaping, sessions, the login limit, conflicts."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from ledger.storage.review_tables import ReviewSession
from ledger.storage.tables import ExceptionItemRow
from review.roles import ROLES
from review.web.app import create_app
from tests.review.seed import IMG, PASSWORD, SCRIPT, book_invoice, seed

TABLE = Path(__file__).with_name("route_roles.csv")
ITEMS = ExceptionItemRow.__table__


@pytest.fixture
def site(sqlite_engine):
    from ledger.storage import migrate

    migrate.upgrade(sqlite_engine)
    books = seed(sqlite_engine)
    return sqlite_engine, create_app(sqlite_engine, books)


def client(app, **kwargs) -> TestClient:
    return TestClient(app, follow_redirects=False, **kwargs)


def login_token(http: TestClient) -> str:
    page = http.get("/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def logged_in(app, username: str, **kwargs) -> tuple[TestClient, str]:
    http = client(app, **kwargs)
    response = http.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": login_token(http)})
    assert response.status_code == 303, response.text
    page = http.get("/audit" if not username.startswith("it_admin") else "/connectors")
    return http, re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def item_id(engine, code: str) -> int:
    with engine.connect() as connection:
        return connection.execute(select(ITEMS.c.id).where(ITEMS.c.code == code)).scalar_one()


def expected() -> dict[tuple[str, str], dict[str, str]]:
    with TABLE.open(encoding="utf-8") as handle:
        return {(row["method"], row["path"]): row for row in csv.DictReader(handle)}


def routes(app) -> list[tuple[str, str]]:
    return [(method, route.path) for route in app.routes if isinstance(route, APIRoute) for method in route.methods]


def test_every_route_has_an_entry_in_the_table_and_the_table_no_stale_one(site) -> None:
    _engine, app = site
    assert sorted(routes(app)) == sorted(expected()), "add the new route to tests/review/route_roles.csv"


def denied(response) -> bool:
    if response.status_code == 303:
        return response.headers["location"].endswith("/login")
    return response.status_code in (401, 403)


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_every_route_for_every_role_follows_the_table(site, role: str) -> None:
    engine, app = site
    table = expected()
    http, csrf = (client(app), "") if role == "anonymous" else logged_in(app, f"{role}1")
    number = item_id(engine, "UNMATCHED_BANK_TXN")
    # logging out and in change the session: those go last
    ordered = sorted(routes(app), key=lambda r: (r in (("POST", "/logout"), ("POST", "/login")), r[1] == "/login"))
    seen = {}
    for method, path in ordered:
        url = path.replace("{item_id}", str(number)).replace("{voucher_id}", "1").replace("{name}", "app.css")
        if method == "GET":
            response = http.get(url)
        elif path == "/login":
            response = http.post(url, data={"username": f"{role}2" if role != "anonymous" else "reviewer2",
                                            "password": PASSWORD, "csrf_token": login_token(http)})
        else:
            response = http.post(url, data={"csrf_token": csrf})
        seen[(method, path)] = "deny" if denied(response) else "allow"
        assert response.status_code < 500, (method, path, response.text)
    assert seen == {key: row[role] for key, row in table.items()}


def test_a_post_without_its_csrf_token_is_refused(site) -> None:
    engine, app = site
    http, csrf = logged_in(app, "reviewer1")
    number = item_id(engine, "UNMATCHED_BANK_TXN")
    with engine.connect() as connection:
        version = str(connection.execute(select(ITEMS.c.version).where(ITEMS.c.id == number)).scalar_one())
    for data in ({"body": "x", "version": version}, {"body": "x", "version": version, "csrf_token": "forged"}):
        response = http.post(f"/items/{number}/comment", data=data)
        assert response.status_code == 403 and "表单令牌缺失或错误" in response.text
    assert http.post(f"/items/{number}/comment",
                     data={"body": "x", "version": version, "csrf_token": csrf}).status_code == 303
    assert client(app).post("/login", data={"username": "reviewer1", "password": PASSWORD}).status_code == 403


def test_script_and_html_in_connector_data_are_shown_escaped(site) -> None:
    engine, app = site
    http, _ = logged_in(app, "auditor1")
    pages = [http.get("/queue").text, http.get(f"/items/{item_id(engine, 'SHORT_PAYMENT')}").text,
             http.get(f"/items/{item_id(engine, 'LOW_CONFIDENCE_MATCH')}").text]
    for page in pages:
        assert SCRIPT not in page and IMG not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in pages[0]
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in pages[1]
    assert "default-src 'self'" in http.get("/queue").headers["content-security-policy"]


def test_session_cookie_is_httponly_lax_secure_behind_https_and_rotates_at_login(site) -> None:
    _engine, app = site
    http = client(app)
    token = login_token(http)
    first = http.post("/login", data={"username": "reviewer1", "password": PASSWORD, "csrf_token": token},
                      headers={"X-Forwarded-Proto": "https"})
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
    plain = client(app)
    again = plain.post("/login", data={"username": "reviewer1", "password": PASSWORD,
                                       "csrf_token": login_token(plain)})
    assert "Secure" not in again.headers["set-cookie"]
    before = http.cookies.get("yecai_session")
    http.post("/login", data={"username": "reviewer1", "password": PASSWORD, "csrf_token": login_token(http)})
    assert http.cookies.get("yecai_session") not in (None, before)


def test_an_idle_session_ends(site) -> None:
    engine, app = site
    http, _ = logged_in(app, "reviewer1")
    assert http.get("/queue").status_code == 200
    with engine.begin() as connection:
        connection.execute(update(ReviewSession.__table__).values(
            last_seen_at=datetime.now(UTC) - timedelta(minutes=31)))
    assert http.get("/queue").headers["location"] == "/login"


def test_ten_failures_lock_the_account_even_for_the_right_password(site) -> None:
    _engine, app = site
    http = client(app)
    for _ in range(10):
        response = http.post("/login", data={"username": "reviewer1", "password": "wrong password!",
                                             "csrf_token": login_token(http)})
        assert response.status_code == 401
    response = http.post("/login", data={"username": "reviewer1", "password": PASSWORD,
                                         "csrf_token": login_token(http)})
    assert response.status_code == 401 and "登录失败次数过多" in response.text
    # another account from another address is not affected
    other = client(app, client=("10.0.0.9", 5000))
    assert other.post("/login", data={"username": "reviewer2", "password": PASSWORD,
                                      "csrf_token": login_token(other)}).status_code == 303


def test_a_second_reviewer_gets_a_conflict_page_with_the_current_state(site) -> None:
    engine, app = site
    one, csrf_one = logged_in(app, "reviewer1")
    two, csrf_two = logged_in(app, "reviewer2")
    number = item_id(engine, "UNMATCHED_BANK_TXN")
    page = one.get(f"/items/{number}").text
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    assert one.post(f"/items/{number}/assign", data={"assignee": "me", "version": version,
                                                     "csrf_token": csrf_one}).status_code == 303
    response = two.post(f"/items/{number}/ignore", data={"reason": "dup", "version": version,
                                                         "csrf_token": csrf_two})
    assert response.status_code == 409
    assert "reviewer1" in response.text and "处理中" in response.text   # who acted, and the state now


def test_queue_filters_through_the_page(site) -> None:
    _engine, app = site
    http, _ = logged_in(app, "auditor1")
    assert http.get("/queue?min_amount=1000").text.count('class="item-link"') == 1     # only 1130.00
    assert http.get("/queue?code=SHORT_PAYMENT&severity=medium").text.count('class="item-link"') == 1
    assert http.get("/queue?min_amount=lots").status_code == 400
    assert http.get("/queue?code=NOPE").status_code == 400
    assert http.get("/queue?status=gone").status_code == 400


def test_english_is_a_query_away_and_sticks(site) -> None:
    _engine, app = site
    http, _ = logged_in(app, "auditor1")
    assert "待处理队列" in http.get("/queue").text
    assert "<h1>Queue</h1>" in http.get("/queue?lang=en").text
    assert "<h1>Queue</h1>" in http.get("/queue").text


def test_dashboard_and_autonomy_render_their_charts(site) -> None:
    _engine, app = site
    http, _ = logged_in(app, "auditor1")
    page = http.get("/dashboard?lang=en").text
    assert page.count("<svg") == 4 and "UNMATCHED_BANK_TXN" in page
    assert "Auto-accept" in http.get("/autonomy").text


def test_failures_from_one_address_lock_it_for_every_account(site) -> None:
    _engine, app = site
    http = client(app, client=("10.0.0.7", 4000))
    for n in range(10):
        http.post("/login", data={"username": f"nobody{n}", "password": "x" * 12, "csrf_token": login_token(http)})
    response = http.post("/login", data={"username": "reviewer2", "password": PASSWORD,
                                         "csrf_token": login_token(http)})
    assert response.status_code == 401 and "登录失败次数过多" in response.text


def test_bulk_assign_applies_to_each_and_reports_a_stale_one(site) -> None:
    engine, app = site
    http, csrf = logged_in(app, "reviewer1")
    with engine.connect() as connection:
        rows = connection.execute(select(ITEMS.c.id, ITEMS.c.version).order_by(ITEMS.c.id)).all()
    chosen = [f"{rows[0].id}:{rows[0].version}", f"{rows[1].id}:{rows[1].version + 5}"]
    response = http.post("/bulk", data={"action": "assign", "assignee": "me", "item": chosen, "csrf_token": csrf})
    assert response.status_code == 200
    assert response.text.count('class="done"') == 1 and "抢先处理" in response.text
    with engine.connect() as connection:
        assignees = dict(connection.execute(select(ITEMS.c.id, ITEMS.c.assignee)).all())
    assert assignees[rows[0].id] == "reviewer1" and assignees[rows[1].id] is None


def test_nobody_approves_what_they_prepared(site) -> None:
    engine, app = site
    preparer, csrf = logged_in(app, "all1")           # reviewer and approver at once
    number = item_id(engine, "SHORT_PAYMENT")
    page = preparer.get(f"/items/{number}").text
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    assert preparer.post(f"/items/{number}/write-off", data={"amount": "0.50", "reason": "rounding",
                                                             "version": version, "csrf_token": csrf}).status_code == 303
    voucher = re.search(r'href="/vouchers/(\d+)"', preparer.get(f"/items/{number}").text).group(1)
    refused = preparer.post(f"/vouchers/{voucher}/approve", data={"csrf_token": csrf})
    assert refused.status_code == 400 and "不相容职务分离" in refused.text
    reviewer, csrf_reviewer = logged_in(app, "reviewer1")
    assert 'id="approve"' not in reviewer.get(f"/vouchers/{voucher}").text
    assert reviewer.post(f"/vouchers/{voucher}/approve", data={"csrf_token": csrf_reviewer}).status_code == 403
    approver, csrf_approver = logged_in(app, "approver1")
    response = approver.post(f"/vouchers/{voucher}/approve", data={"csrf_token": csrf_approver})
    assert response.status_code == 303, response.text
    posted = approver.get(f"/vouchers/{voucher}").text
    assert "已记账" in posted and "转-" in posted and 'id="approve"' not in posted
    assert f'href="/vouchers/{voucher}"' in approver.get("/vouchers?state=posted").text
    assert f'href="/vouchers/{voucher}"' not in approver.get("/vouchers").text      # drafts only


def test_every_message_exists_in_both_languages() -> None:
    from review.i18n import MESSAGES

    assert set(MESSAGES["zh"]) == set(MESSAGES["en"])


def test_the_item_page_searches_documents_and_bank_transactions_to_link(site) -> None:
    engine, app = site
    http, _ = logged_in(app, "reviewer1")
    number = item_id(engine, "DUPLICATE_INVOICE")
    page = http.get(f"/items/{number}", params={"q": "T1"}).text
    assert "bank_txn 31050161373600001234:T1" in page and f'action="/items/{number}/link"' in page
    assert "sales_invoice INV-1" in http.get(f"/items/{number}", params={"q": "INV-1"}).text
    assert "海尔智家股份有限公司" in http.get(f"/items/{number}", params={"q": "海尔"}).text


def test_the_item_page_asks_for_a_reversal_of_a_posted_duplicate(site) -> None:
    from review import actions
    from review.actions import Actor
    from tests.review.seed import BOOKS

    engine, app = site
    posted = book_invoice(engine, BOOKS, "INV-3", posted=True)
    number = item_id(engine, "DUPLICATE_INVOICE")
    with engine.connect() as connection:
        version = connection.execute(select(ITEMS.c.version).where(ITEMS.c.id == number)).scalar_one()
    actions.mark_duplicate(engine, BOOKS, number, version, Actor("reviewer1", "reviewer"), "sales_invoice", "INV-3")
    http, _ = logged_in(app, "auditor1")
    page = http.get(f"/items/{number}").text
    assert 'class="warning duplicate-posted"' in page and f"yecai vouchers reverse {posted}" in page
    assert "红字冲销" in page
    assert "reverse it red-letter" in http.get(f"/items/{number}?lang=en").text
