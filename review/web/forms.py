"""The state-changing routes: every one a POST behind the guard (session, permission, CSRF)."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from fastapi.responses import Response

from ledger.posting.book import BookError
from review import actions
from review.actions import ActionError, Actor, Conflict
from review.approvals import approve_voucher
from review.web.app import Ctx, Refused, Web

BULK = ("assign", "snooze", "ignore")


def _version(ctx: Ctx) -> int:
    text = ctx.form.get("version", "")
    if not text.isdigit():
        raise Refused(400, "the form has no item version: reload the page")
    return int(text)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise Refused(400, f"date {text!r}: expected YYYY-MM-DD") from None


def register(web: Web) -> None:
    books = web.books

    def run(ctx: Ctx, item_id: int, action: str):
        actor, form, version = Actor(ctx.user.username, ctx.role), ctx.form, _version(ctx)
        reason = form.get("reason", "")
        args = (web.engine, books, item_id, version, actor)
        if action == "accept":
            return actions.accept(*args, link_id=int(form.get("link_id", "0") or 0), reason=reason)
        if action == "link":
            return actions.link_manually(*args, form.get("doc_type", ""), form.get("doc_no", ""), reason)
        if action == "allocate":
            pairs = [(n, a) for n, a in zip(ctx.form_lists.get("invoice_no", []), ctx.form_lists.get("amount", []))
                     if n.strip() and a.strip()]
            return actions.allocate(*args, pairs, reason)
        if action == "write-off":
            return actions.write_off(*args, form.get("amount", ""), reason)
        if action == "duplicate":
            doc_type, _, doc_no = form.get("document", "").partition("|")
            return actions.mark_duplicate(*args, doc_type, doc_no, reason)
        if action == "ignore":
            return actions.ignore(*args, reason)
        if action == "snooze":
            return actions.snooze(*args, _date(form.get("until", "")), reason)
        if action == "assign":
            assignee = form.get("assignee", "").strip()
            return actions.assign(*args, ctx.user.username if assignee == "me" else assignee, reason)
        if action == "comment":
            return actions.comment(*args, form.get("body", ""))
        raise Refused(404, f"no action {action}")

    def handle(ctx: Ctx, item_id: int, action: str) -> Response:
        try:
            done = run(ctx, item_id, action)
        except Conflict as conflict:
            return web.render(ctx, "error.html", status=409, title=ctx.t("conflict"), message=str(conflict),
                              current=conflict.current, item_id=item_id)
        except (ActionError, BookError) as error:
            return web.render(ctx, "error.html", status=400, title=ctx.t("refused"), message=str(error),
                              item_id=item_id)
        return web.redirect(f"/items/{item_id}?done={quote(done.message)}")

    for action in ("accept", "link", "allocate", "write-off", "duplicate", "ignore", "snooze", "assign", "comment"):
        def bind(action: str = action):
            async def act(ctx: Ctx, item_id: str) -> Response:
                if not item_id.isdigit():
                    raise Refused(404, ctx.t("not_found"))
                return handle(ctx, int(item_id), action)
            act.__name__ = f"item_{action.replace('-', '_')}"
            web.route("POST", f"/items/{{item_id}}/{action}", "act")(act)
        bind()

    @web.route("POST", "/bulk", "act")
    async def bulk(ctx: Ctx) -> Response:
        """Apply one action to the selected items; each is its own transaction, conflicts are listed."""
        action = ctx.form.get("action", "")
        if action not in BULK:
            raise Refused(400, f"bulk action {action!r}: expected one of {', '.join(BULK)}")
        actor, outcomes = Actor(ctx.user.username, ctx.role), []
        for selected in ctx.form_lists.get("item", []):
            item_text, _, version_text = selected.partition(":")
            if not (item_text.isdigit() and version_text.isdigit()):
                raise Refused(400, f"selection {selected!r}: expected item:version")
            args = (web.engine, books, int(item_text), int(version_text), actor)
            try:
                if action == "assign":
                    assignee = ctx.form.get("assignee", "").strip()
                    done = actions.assign(*args, ctx.user.username if assignee == "me" else assignee,
                                          ctx.form.get("reason", ""))
                elif action == "snooze":
                    done = actions.snooze(*args, _date(ctx.form.get("until", "")), ctx.form.get("reason", ""))
                else:
                    done = actions.ignore(*args, ctx.form.get("reason", ""))
                outcomes.append((int(item_text), True, done.message))
            except (Conflict, ActionError) as error:
                outcomes.append((int(item_text), False, str(error)))
        return web.render(ctx, "bulk.html", outcomes=outcomes, action=action)

    @web.route("POST", "/vouchers/{voucher_id}/approve", "approve")
    async def approve(ctx: Ctx, voucher_id: str) -> Response:
        if not voucher_id.isdigit():
            raise Refused(404, ctx.t("not_found"))
        try:
            number = approve_voucher(web.engine, books, int(voucher_id), Actor(ctx.user.username, ctx.role))
        except BookError as error:
            return web.render(ctx, "error.html", status=400, title=ctx.t("refused"), message=str(error))
        return web.redirect(f"/vouchers/{voucher_id}?done={quote(number)}")
