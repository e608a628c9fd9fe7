"""Logging in and out, the front page and the two static files."""

from __future__ import annotations

import secrets

from fastapi.responses import HTMLResponse, Response

from review.auth import AuthError, login, logout
from review.roles import allowed
from review.web.app import LOGIN_CSRF_COOKIE, SESSION_COOKIE, STATIC, STATIC_FILES, Ctx, Refused, Web


def register(web: Web) -> None:
    @web.route("GET", "/login", "public")
    async def login_page(ctx: Ctx) -> Response:
        token = secrets.token_urlsafe(32)
        response = web.render(ctx, "login.html", csrf=token, error="")
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=web.secure(ctx.request))
        return response

    @web.route("POST", "/login", "public")
    async def login_submit(ctx: Ctx) -> Response:
        expected = ctx.request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not expected or not secrets.compare_digest(ctx.form.get("csrf_token", "").encode(), expected.encode()):
            raise Refused(403, "CSRF token missing or wrong: reload the login page and try again")
        address = ctx.request.client.host if ctx.request.client else "unknown"
        try:
            session = login(web.engine, ctx.form.get("username", "").strip(), ctx.form.get("password", ""),
                            address, web.settings)
        except AuthError as error:
            token = secrets.token_urlsafe(32)
            response = web.render(ctx, "login.html", status=401, csrf=token, error=str(error))
            response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax",
                                secure=web.secure(ctx.request))
            return response
        logout(web.engine, ctx.request.cookies.get(SESSION_COOKIE))   # a new session id at every login
        target = "/queue" if allowed(session.user.roles, "view") else "/connectors"
        response = web.redirect(target)
        response.set_cookie(SESSION_COOKIE, session.token, httponly=True, samesite="lax",
                            secure=web.secure(ctx.request))
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return response

    @web.route("POST", "/logout", "any")
    async def logout_submit(ctx: Ctx) -> Response:
        logout(web.engine, ctx.request.cookies.get(SESSION_COOKIE))
        response = web.redirect("/login?bye=1")
        response.delete_cookie(SESSION_COOKIE)
        return response

    @web.route("GET", "/", "any")
    async def front(ctx: Ctx) -> Response:
        return web.redirect("/queue" if allowed(ctx.user.roles, "view") else "/connectors")

    @web.route("GET", "/static/{name}", "public")
    async def static(ctx: Ctx, name: str) -> Response:
        if name not in STATIC_FILES:
            return HTMLResponse("not found", status_code=404)
        return Response((STATIC / name).read_bytes(), media_type=STATIC_FILES[name],
                        headers={"Cache-Control": "max-age=3600"})
