"""The operator console: an aiohttp application mounted at ``/admin`` by :mod:`bot.http`.

Pages are rendered on the server with jinja2 (templates/ beside this file); the one script,
``static/console.js``, refreshes the live jobs and draws the charts with the vendored Chart.js
(``static/chart.umd.min.js``, MIT, see ``chart.js.LICENSE.md``): nothing is loaded from
elsewhere, so the console works offline. What it reads and does is :mod:`core.operations`;
who may use it, :mod:`bot.web.auth`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot.adapters import ALLOWLIST_PLATFORMS, PLATFORMS, access_id
from bot.web.auth import (
    FAILURE_WINDOW,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SESSION_SECONDS,
    LoginLimiter,
    Sessions,
    new_token,
    same,
)
from core.access import AccessKind, Allowlists, Listed
from core.i18n import LOCALES, Translator
from core.limits import Window
from core.operations import CAP_FIELDS, LiveJob, Operations, usage_csv
from core.runner import today
from core.store import ConsoleSession

HERE = Path(__file__).resolve().parent
LANG_COOKIE = "ima_admin_lang"
#: Days the usage page can show.
USAGE_DAYS = (1, 7, 30, 90)
#: Failures are listed for this long (the generation log keeps a week).
FAILURE_SECONDS = 7 * 24 * 3600

_KINDS = frozenset(k.value for k in AccessKind)
_SESSION_KEY = web.RequestKey("console_session", ConsoleSession)
_LOCALE_KEY = web.RequestKey("console_locale", str)
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: What every answer of the console says to the browser.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def choose_locale(request: web.Request) -> str:
    """The language switch's cookie, else the browser's first language we have, else English."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LOCALES:
        return chosen
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(request.headers.get("Accept-Language", "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        lang = tag.strip().split("-")[0].lower()
        if lang in LOCALES and quality > 0:
            ranked.append((-quality, index, lang))
    return min(ranked)[2] if ranked else "en"


def _age(t: Translator, locale: str, seconds: int) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return t.t(locale, "console.age.hours", h=h, m=m)
    if m:
        return t.t(locale, "console.age.minutes", m=m, s=s)
    return t.t(locale, "console.age.seconds", s=s)


class Console:
    def __init__(
        self,
        operations: Operations,
        password: str,
        allowlists: Allowlists,
        *,
        secure_cookie: bool = False,
    ) -> None:
        self.ops = operations
        self.t = operations.translator
        self.password = password
        self.allowlists = allowlists
        self.secure = secure_cookie
        self.sessions = Sessions(operations.store)
        self.limiter = LoginLimiter(operations.store)
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )

    # ── plumbing ──────────────────────────────────────────────────────────────────────────

    def render(
        self, request: web.Request, name: str, status: int = 200, **values: Any
    ) -> web.Response:
        locale: str = request.get(_LOCALE_KEY) or choose_locale(request)
        session: ConsoleSession | None = request.get(_SESSION_KEY)

        def t(key: str, /, **kw: Any) -> str:
            return self.t.t(locale, key, **kw)

        html = self.templates.get_template(name).render(
            t=t,
            locale=locale,
            csrf=session.csrf if session else "",
            signed_in=session is not None,
            path=request.path,
            notice=request.query.get("notice"),
            **values,
        )
        return web.Response(text=html, content_type="text/html", status=status)

    def _cookie(self, response: web.StreamResponse, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/admin",
            httponly=True,
            samesite="Strict",
            secure=self.secure,
        )

    @web.middleware
    async def guard(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        """Sessions, CSRF and the headers of every answer."""
        request[_LOCALE_KEY] = choose_locale(request)
        static = request.path.startswith("/admin/static/")
        public = static or request.path in ("/admin/login", "/admin/lang")
        # Sessions are in the store: files that need none don't ask it.
        session = None if static else await self.sessions.get(request.cookies.get(SESSION_COOKIE))
        if session is not None:
            request[_SESSION_KEY] = session
        if session is None and not public:
            response: web.StreamResponse = _redirect("/admin/login")
        elif request.method == "POST" and not public and not await self._csrf_ok(request):
            response = self.render(request, "message.html", 403, key="console.bad_form")
        else:
            try:
                response = await handler(request)
            except web.HTTPException as exc:  # aiohttp's own answers (not found, not allowed)
                exc.headers.update(_HEADERS)
                raise
        response.headers.update(_HEADERS)
        return response

    async def _csrf_ok(self, request: web.Request) -> bool:
        form = await request.post()
        given = form.get("csrf")
        session: ConsoleSession = request[_SESSION_KEY]
        return isinstance(given, str) and same(given, session.csrf)

    # ── login ─────────────────────────────────────────────────────────────────────────────

    async def login_page(self, request: web.Request) -> web.StreamResponse:
        return self._login_form(request)

    def _login_form(
        self, request: web.Request, error: str | None = None, status: int = 200
    ) -> web.Response:
        token = request.cookies.get(LOGIN_COOKIE) or new_token()
        response = self.render(request, "login.html", status, login_token=token, error=error)
        self._cookie(response, LOGIN_COOKIE, token, 3600)
        return response

    async def login(self, request: web.Request) -> web.StreamResponse:
        address = request.remote or "unknown"
        form = await request.post()
        token, password = form.get("login_token"), form.get("password")
        if not isinstance(token, str) or not same(token, request.cookies.get(LOGIN_COOKIE, "")):
            return self.render(request, "message.html", 403, key="console.bad_form")
        if await self.limiter.blocked(address):
            response = self._login_form(request, "console.login.too_many", 429)
            response.headers["Retry-After"] = str(int(FAILURE_WINDOW))
            return response
        if not isinstance(password, str) or not same(password, self.password):
            await self.limiter.failed(address)
            return self._login_form(request, "console.login.wrong", 401)
        session_token, _ = await self.sessions.start()
        response = _redirect("/admin/jobs")
        self._cookie(response, SESSION_COOKIE, session_token, SESSION_SECONDS)
        response.del_cookie(LOGIN_COOKIE, path="/admin")
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        await self.sessions.end(request.cookies.get(SESSION_COOKIE))
        response = _redirect("/admin/login")
        response.del_cookie(SESSION_COOKIE, path="/admin")
        return response

    async def language(self, request: web.Request) -> web.StreamResponse:
        """``/admin/lang?to=zh&back=/admin/usage``: remember the language and go back."""
        to = request.query.get("to", "en")
        back = request.query.get("back", "/admin/jobs")
        if not back.startswith("/admin/") or back.startswith("//"):
            back = "/admin/jobs"
        response = _redirect(back)
        if to in LOCALES:
            self._cookie(response, LANG_COOKIE, to, 365 * 24 * 3600)
        return response

    # ── pages ─────────────────────────────────────────────────────────────────────────────

    async def home(self, request: web.Request) -> web.StreamResponse:
        return _redirect("/admin/jobs")

    async def jobs(self, request: web.Request) -> web.StreamResponse:
        locale = request[_LOCALE_KEY]
        live = await self.ops.live_jobs(time.time())
        rows = [self._job_row(locale, job) for job in live]
        return self.render(request, "jobs.html", jobs=rows)

    def _job_row(self, locale: str, job: LiveJob) -> dict[str, Any]:
        state = "queued" if job.position is not None else job.state.value
        return {
            "job": job,
            "state": self.t.t(locale, f"console.state.{state}"),
            "age": _age(self.t, locale, job.age_seconds),
        }

    async def cancel(self, request: web.Request) -> web.StreamResponse:
        done = await self.ops.cancel(request.match_info["job_id"], time.time())
        notice = "console.cancelled" if done else "console.gone"
        return _redirect(f"/admin/jobs?notice={notice}")

    def _days(self, request: web.Request) -> int:
        try:
            days = int(request.query.get("days", "7"))
        except ValueError:
            days = 7
        return days if days in USAGE_DAYS else 7

    async def usage(self, request: web.Request) -> web.StreamResponse:
        days = self._days(request)
        report = await self.ops.usage(days, today())
        locale = request[_LOCALE_KEY]
        charts = {
            "credits": {
                "labels": [d.key for d in report.by_day],
                "values": [d.credits for d in report.by_day],
                "label": self.t.t(locale, "console.usage.credits"),
            },
            "models": {
                "labels": [m.key for m in report.by_model],
                "values": [m.jobs for m in report.by_model],
                "label": self.t.t(locale, "console.usage.jobs"),
            },
            "failures": {
                "labels": [self.ops.reason(locale, kind) for kind, _ in report.failures_by_kind],
                "values": [count for _, count in report.failures_by_kind],
                "label": self.t.t(locale, "console.usage.jobs"),
            },
        }
        return self.render(
            request,
            "usage.html",
            report=report,
            days=days,
            choices=USAGE_DAYS,
            charts=json.dumps(charts, ensure_ascii=False),
        )

    async def usage_csv(self, request: web.Request) -> web.StreamResponse:
        days = self._days(request)
        report = await self.ops.usage(days, today())
        return web.Response(
            body=usage_csv(report.rows).encode("utf-8-sig"),  # a spreadsheet reads it as UTF-8
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="usage-{report.since_day}.csv"'},
        )

    async def caps(self, request: web.Request) -> web.StreamResponse:
        return await self._caps_page(request)

    async def _caps_page(
        self,
        request: web.Request,
        error: str | None = None,
        status: int = 200,
        *,
        allow_error: str | None = None,
        allowing: Mapping[str, str] | None = None,
    ) -> web.Response:
        overview = await self.ops.caps()
        platform = request.query.get("platform", "")
        chat = request.query.get("chat", "")
        editing = dict(overview.chats).get((platform, chat), overview.defaults)
        return self.render(
            request,
            "caps.html",
            status,
            overview=overview,
            fields=CAP_FIELDS,
            windows=[w.value for w in Window],
            platforms=PLATFORMS,
            editing=editing,
            platform=platform,
            chat=chat,
            error=error,
            allowlists=await self._allowlists(),
            kinds=[k.value for k in AccessKind],
            allow_platforms=ALLOWLIST_PLATFORMS,
            allow_error=allow_error,
            allowing=allowing or {},
        )

    async def _allowlists(self) -> dict[str, tuple[bool, dict[str, list[Listed]]]]:
        """Each platform's lists by kind, and whether it runs on this replica (if not, its
        settings are not known here: only what operators added is listed)."""
        running = self.allowlists.platforms
        return {
            platform: (
                platform in running,
                {k.value: await self.allowlists.listing(platform, k) for k in AccessKind},
            )
            for platform in ALLOWLIST_PLATFORMS
        }

    async def allow(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        platform, kind, text = (str(form.get(n, "")) for n in ("platform", "kind", "entry_id"))
        allowing = {"platform": platform, "kind": kind, "entry_id": text}
        if platform not in ALLOWLIST_PLATFORMS or kind not in _KINDS:
            return await self._caps_page(
                request, status=400, allow_error="console.bad_form", allowing=allowing
            )
        try:
            entry_id = access_id(platform, AccessKind(kind), text)
        except ValueError:
            return await self._caps_page(
                request,
                status=400,
                allow_error=f"console.allow.invalid.{platform}.{kind}",
                allowing=allowing,
            )
        if not await self.allowlists.add(platform, AccessKind(kind), entry_id):
            return await self._caps_page(
                request, status=409, allow_error="console.allow.already", allowing=allowing
            )
        return _redirect("/admin/caps?notice=console.saved#allowlists")

    async def disallow(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        platform, kind, entry_id = (str(form.get(n, "")) for n in ("platform", "kind", "entry_id"))
        if kind in _KINDS:
            await self.allowlists.remove(platform, AccessKind(kind), entry_id)
        return _redirect("/admin/caps?notice=console.saved#allowlists")

    async def set_caps(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        platform, chat = str(form.get("platform", "")), str(form.get("chat", "")).strip()
        try:
            if platform not in PLATFORMS or not chat:
                raise ValueError("a platform and a chat are needed")
            values = {name: _number(form.get(name)) for name in CAP_FIELDS}
            await self.ops.set_caps(platform, chat, values, Window(str(form.get("window"))))
        except ValueError:
            return await self._caps_page(request, "console.caps.invalid", 400)
        return _redirect("/admin/caps?notice=console.saved")

    async def clear_caps(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        await self.ops.clear_caps(str(form.get("platform", "")), str(form.get("chat", "")))
        return _redirect("/admin/caps?notice=console.saved")

    async def failures(self, request: web.Request) -> web.StreamResponse:
        locale = request[_LOCALE_KEY]
        rows = await self.ops.failures(locale, since=time.time() - FAILURE_SECONDS)
        return self.render(request, "failures.html", failures=rows, when=_when)


def _number(value: object) -> int | None:
    """A form's number; empty: no cap. ValueError for anything else."""
    text = str(value or "").strip()
    return int(text) if text else None


def _redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at)) + " UTC"


def console_app(console: Console) -> web.Application:
    """The application to mount at ``/admin``."""
    app = web.Application(middlewares=[console.guard])
    app.router.add_get("/", console.home)
    app.router.add_get("/login", console.login_page)
    app.router.add_post("/login", console.login)
    app.router.add_post("/logout", console.logout)
    app.router.add_get("/lang", console.language)
    app.router.add_get("/jobs", console.jobs)
    app.router.add_post("/jobs/{job_id}/cancel", console.cancel)
    app.router.add_get("/usage", console.usage)
    app.router.add_get("/usage.csv", console.usage_csv)
    app.router.add_get("/caps", console.caps)
    app.router.add_post("/caps", console.set_caps)
    app.router.add_post("/caps/clear", console.clear_caps)
    app.router.add_post("/allowlists", console.allow)
    app.router.add_post("/allowlists/remove", console.disallow)
    app.router.add_get("/failures", console.failures)
    app.router.add_static("/static", HERE / "static")
    return app
