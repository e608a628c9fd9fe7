"""The review web UI: FastAPI, server-rendered Jinja2 (autoescaped), a little progressive JS.

    app = create_app(engine, books)           # yecai ui serves it with uvicorn on 127.0.0.1

Every route is declared with the permission it needs (review/roles.py); ``guard`` checks the
session, the permission and, for every POST, the CSRF token before the handler runs. The
checked-in table tests/review/route_roles.csv says which role may use which route.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader
from sqlalchemy import Engine

from review.actions import Books
from review.auth import SessionInfo, session_user
from review.i18n import DEFAULT, LANGUAGES, localise, translator
from review.roles import acting_role, allowed

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"
SESSION_COOKIE, LOGIN_CSRF_COOKIE, LANG_COOKIE = "yecai_session", "yecai_login_csrf", "yecai_lang"
STATIC_FILES = {"app.css": "text/css", "app.js": "text/javascript"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status, self.message = status, message
        super().__init__(message)


class NeedLogin(Exception):
    pass


@dataclass(slots=True)
class Ctx:
    request: Request
    lang: str
    t: Callable[[str], str]
    session: SessionInfo | None = None
    form: dict[str, Any] = field(default_factory=dict)
    form_lists: dict[str, list[str]] = field(default_factory=dict)
    permission: str = ""

    @property
    def user(self):
        return self.session.user if self.session else None

    @property
    def role(self) -> str:
        return acting_role(self.user.roles, self.permission) if self.user else ""


class Web:
    """The app's state and helpers, shared by the page and form modules."""

    def __init__(self, app: FastAPI, engine: Engine, books: Books) -> None:
        self.app, self.engine, self.books, self.settings = app, engine, books, books.settings
        self.env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True,
                               lstrip_blocks=True)
        self.permissions: dict[tuple[str, str], str] = {}

    def route(self, method: str, path: str, permission: str):
        """Register a handler ``async def h(ctx, **path_params)`` that runs after the guard."""
        def register(handler):
            async def endpoint(request: Request) -> Response:
                ctx = await self.guard(request, permission)
                response = await handler(ctx, **request.path_params)
                return self._finish(ctx, response)
            endpoint.__name__ = handler.__name__
            self.permissions[(method, path)] = permission
            self.app.add_api_route(path, endpoint, methods=[method], include_in_schema=False)
            return handler
        return register

    def language(self, request: Request) -> str:
        wanted = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or DEFAULT
        return wanted if wanted in LANGUAGES else DEFAULT

    async def guard(self, request: Request, permission: str) -> Ctx:
        lang = self.language(request)
        ctx = Ctx(request, lang, translator(lang), permission=permission)
        if request.method == "POST":
            form = await request.form()
            ctx.form = {k: v for k, v in form.items() if isinstance(v, str)}
            ctx.form_lists = {k: [v for v in form.getlist(k) if isinstance(v, str)] for k in form}
        if permission == "public":
            return ctx
        ctx.session = session_user(self.engine, request.cookies.get(SESSION_COOKIE), self.settings)
        if ctx.session is None:
            raise NeedLogin()
        if request.method == "POST":
            sent = ctx.form.get("csrf_token") or request.headers.get("x-csrf-token") or ""
            if not secrets.compare_digest(sent.encode(), ctx.session.csrf.encode()):
                raise Refused(403, "CSRF token missing or wrong: reload the page and try again")
        if permission != "any" and not allowed(ctx.user.roles, permission):
            raise Refused(403, ctx.t("forbidden"))
        return ctx

    def secure(self, request: Request) -> bool:
        mode = self.settings.session.secure_cookie
        if mode != "auto":
            return mode == "always"
        return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"

    def _finish(self, ctx: Ctx, response: Response) -> Response:
        if ctx.request.query_params.get("lang") in LANGUAGES:
            response.set_cookie(LANG_COOKIE, ctx.lang, httponly=True, samesite="lax", secure=self.secure(ctx.request),
                                max_age=365 * 86400)
        return response

    def render(self, ctx: Ctx, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = self.env.get_template(name).render(ctx=ctx, t=ctx.t, user=ctx.user, csrf=ctx.session.csrf
                                                  if ctx.session else values.pop("csrf", ""),
                                                  may=lambda p: bool(ctx.user) and allowed(ctx.user.roles, p),
                                                  msg=lambda text: localise(str(text), ctx.lang),
                                                  **values)
        return HTMLResponse(html, status_code=status)

    def redirect(self, url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)


def create_app(engine: Engine, books: Books) -> FastAPI:
    from review.web import auth_routes, forms, pages

    app = FastAPI(title="yecai review", docs_url=None, redoc_url=None, openapi_url=None)
    web = Web(app, engine, books)
    app.state.web = web

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(NeedLogin)
    async def need_login(request: Request, _error: NeedLogin) -> Response:
        if request.method == "GET":
            return RedirectResponse("/login", status_code=303)
        return HTMLResponse("login needed", status_code=401)

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused) -> Response:
        lang = web.language(request)
        ctx = Ctx(request, lang, translator(lang))
        return web.render(ctx, "error.html", status=error.status, title=ctx.t("refused"), message=error.message)

    auth_routes.register(web)
    pages.register(web)
    forms.register(web)
    return app
