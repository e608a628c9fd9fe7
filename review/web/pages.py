"""The pages that only read: queue, item, voucher, chain, dashboard, autonomy, audit, connectors."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from fastapi.responses import Response
from sqlalchemy import select

from ledger.exceptions import ExceptionCode
from ledger.money import Money, MoneyError
from ledger.posting.audit import verify_audit
from ledger.posting.book import verify_chain
from ledger.posting.tables import VoucherLineRow, VoucherRow
from ledger.storage.review_tables import AuditEvent
from ledger.storage.tables import IngestBatch, SourceCursor
from review.charts import bar_chart
from review.dashboard import figures
from review.documents import chain, search_documents
from review.learning import earned, standings
from review.queue import SEVERITIES, STATUSES, Filters, get_item, list_items
from review.web.app import Ctx, Refused, Web

VOUCHER_STATES = ("draft", "reviewed", "posted")


def _int(text: str | None, name: str) -> int | None:
    if not text:
        return None
    if not text.strip().isdigit():
        raise Refused(400, f"{name} {text!r}: expected a whole number")
    return int(text)


def filters_from(ctx: Ctx, currency: str) -> Filters:
    q = ctx.request.query_params
    amount = q.get("min_amount", "").strip()
    try:
        min_amount = Money.parse(amount, currency).quantize() if amount else None
    except (MoneyError, ArithmeticError):
        raise Refused(400, f"amount {amount!r}: expected a number such as 1000") from None
    code = q.get("code", "")
    if code and code not in ExceptionCode.__members__:
        raise Refused(400, f"code {code!r} is not an exception code")
    status = q.get("status", "active")
    if status not in ("active", *STATUSES):
        raise Refused(400, f"status {status!r}: expected active or one of {', '.join(STATUSES)}")
    return Filters(status=status, code=code, severity=q.get("severity", ""),
                   counterparty=q.get("counterparty", "").strip(), assignee=q.get("assignee", "").strip(),
                   min_age_hours=_int(q.get("min_age_hours"), "age"), min_amount=min_amount,
                   after=_int(q.get("after"), "after"))


def register(web: Web) -> None:
    books = web.books

    @web.route("GET", "/queue", "view")
    async def queue(ctx: Ctx) -> Response:
        filters = filters_from(ctx, books.base_currency)
        with web.engine.connect() as connection:
            page = list_items(connection, books.company_id, filters, web.settings)
        params = {k: v for k, v in ctx.request.query_params.items() if k not in ("after", "lang") and v}
        next_url = f"/queue?{urlencode({**params, 'after': page.next_after})}" if page.next_after else ""
        return web.render(ctx, "queue.html", page=page, filters=filters, params=params, next_url=next_url,
                          codes=list(ExceptionCode), severities=SEVERITIES, statuses=STATUSES)

    @web.route("GET", "/items/{item_id}", "view")
    async def item(ctx: Ctx, item_id: str) -> Response:
        number = _int(item_id, "item")
        query = ctx.request.query_params.get("q", "")
        with web.engine.connect() as connection:
            view = get_item(connection, books.company_id, number, web.settings)
            found = search_documents(connection, books.company_id, query) if query else []
        if view is None:
            raise Refused(404, ctx.t("not_found"))
        return web.render(ctx, "item.html", view=view, item=view.item, query=query, found=found,
                          tolerance=books.tolerances.amount, today=datetime.now(UTC).date())

    @web.route("GET", "/vouchers", "view")
    async def voucher_list(ctx: Ctx) -> Response:
        """Vouchers by state, newest first (drafts waiting for an approver by default), 100 a page."""
        vouchers = VoucherRow.__table__
        state = ctx.request.query_params.get("state", "draft")
        if state not in VOUCHER_STATES:
            raise Refused(400, f"state {state!r}: expected one of {', '.join(VOUCHER_STATES)}")
        before = _int(ctx.request.query_params.get("before"), "before")
        query = select(vouchers).where((vouchers.c.company_id == books.company_id) & (vouchers.c.state == state))
        if before:
            query = query.where(vouchers.c.id < before)
        with web.engine.connect() as connection:
            rows = connection.execute(query.order_by(vouchers.c.id.desc()).limit(100)).all()
        return web.render(ctx, "vouchers.html", rows=rows, state=state, states=VOUCHER_STATES)

    @web.route("GET", "/vouchers/{voucher_id}", "view")
    async def voucher(ctx: Ctx, voucher_id: str) -> Response:
        vouchers, lines = VoucherRow.__table__, VoucherLineRow.__table__
        with web.engine.connect() as connection:
            row = connection.execute(select(vouchers).where((vouchers.c.company_id == books.company_id)
                                                            & (vouchers.c.id == _int(voucher_id, "voucher")))).first()
            items = connection.execute(select(lines).where(lines.c.voucher_id == row.id)
                                       .order_by(lines.c.line_no)).all() if row else []
        if row is None:
            raise Refused(404, ctx.t("not_found"))
        money = {ln.line_no: (Money.from_minor(ln.debit_minor, row.currency), Money.from_minor(ln.credit_minor,
                                                                                               row.currency))
                 for ln in items}
        return web.render(ctx, "voucher.html", voucher=row, lines=items, money=money)

    @web.route("GET", "/chain", "view")
    async def chain_page(ctx: Ctx) -> Response:
        doc_type, doc_no = ctx.request.query_params.get("doc_type", ""), ctx.request.query_params.get("doc_no", "")
        with web.engine.connect() as connection:
            links = chain(connection, books.company_id, doc_type, doc_no) if doc_no else []
        return web.render(ctx, "chain.html", links=links, doc_type=doc_type, doc_no=doc_no)

    @web.route("GET", "/dashboard", "view")
    async def dashboard(ctx: Ctx) -> Response:
        with web.engine.connect() as connection:
            numbers = figures(connection, books.company_id, books.base_currency)
        charts = {"auto_rate": bar_chart(numbers.auto_rate, "%", ctx.t("auto_rate")),
                  "open_by_code": bar_chart(numbers.by_code, "", ctx.t("open_by_code")),
                  "open_by_age": bar_chart(numbers.by_age, "", ctx.t("open_by_age")),
                  "unapplied": bar_chart([(m.currency, m.amount) for m in numbers.unapplied], "", ctx.t("unapplied"))}
        return web.render(ctx, "dashboard.html", charts=charts, numbers=numbers)

    @web.route("GET", "/autonomy", "view")
    async def autonomy(ctx: Ctx) -> Response:
        with web.engine.connect() as connection:
            rows = standings(connection, books.company_id)
        now = datetime.now(UTC)
        return web.render(ctx, "autonomy.html", rows=[(s, earned(s, web.settings.autonomy, now)) for s in rows],
                          rules=web.settings.autonomy)

    @web.route("GET", "/audit", "view")
    async def audit(ctx: Ctx) -> Response:
        table = AuditEvent.__table__
        before = _int(ctx.request.query_params.get("before"), "before")
        query = select(table).where(table.c.company_id == books.company_id)
        if before:
            query = query.where(table.c.seq < before)
        with web.engine.connect() as connection:
            events = connection.execute(query.order_by(table.c.seq.desc()).limit(100)).all()
        broken = verify_audit(web.engine, books.company_id) or verify_chain(web.engine, books.company_id)
        return web.render(ctx, "audit.html", events=events, broken=broken)

    @web.route("GET", "/connectors", "connectors")
    async def connectors(ctx: Ctx) -> Response:
        cursors, batches = SourceCursor.__table__, IngestBatch.__table__
        with web.engine.connect() as connection:
            sources = connection.execute(select(cursors).where(cursors.c.company_id == books.company_id)
                                         .order_by(cursors.c.source)).all()
            runs = connection.execute(select(batches).where(batches.c.company_id == books.company_id)
                                      .order_by(batches.c.id.desc()).limit(50)).all()
        return web.render(ctx, "connectors.html", sources=sources, runs=runs)
