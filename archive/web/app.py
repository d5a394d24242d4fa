"""The archivists' web application: FastAPI with server-rendered pages and the `/api` beside them.

No JavaScript is served at all, and the Content-Security-Policy forbids every script, so even
a rendering mistake could not make citizens' text run in an archivist's browser. Pages escape
everything (Jinja2 autoescape); platform HTML is never rendered.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..access.oidc import OidcSettings
from ..access.settings import AccessSettings
from ..config import Settings, get_settings
from ..errors import CommunisError
from ..version import __version__
from .api import router as api_router
from .api_completeness import router as completeness_api_router
from .api_holds import router as holds_api_router
from .api_requests import router as requests_api_router
from .auth import is_tls
from .oidc import open_door
from .oidc import router as oidc_router
from .pages import error_page
from .pages import router as pages_router
from .pages_completeness import router as completeness_pages_router
from .pages_holds import router as holds_pages_router
from .pages_requests import router as requests_pages_router
from .state import AppState

STATIC = Path(__file__).parent / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def create_app(
    settings: Settings | None = None, *, access: AccessSettings | None = None, oidc: OidcSettings | None = None
) -> FastAPI:
    """The application over `settings`; `oidc` is the single sign-on provider (COMMUNIS_OIDC_* when not given)."""
    app = FastAPI(
        title="Communis",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        description="Search and read a municipality's archived social-media records, with provenance.",
    )
    app.state.communis = AppState.open(settings or get_settings(), access)
    app.state.oidc = open_door(oidc)
    app.include_router(api_router)
    app.include_router(requests_api_router)
    app.include_router(holds_api_router)
    app.include_router(completeness_api_router)
    app.include_router(pages_router)
    app.include_router(oidc_router)
    app.include_router(requests_pages_router)
    app.include_router(holds_pages_router)
    app.include_router(completeness_pages_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        hsts = app.state.communis.access.hsts_seconds
        if hsts and is_tls(request):  # over plain HTTP the header means nothing (RFC 6797 §8.1)
            response.headers.setdefault("Strict-Transport-Security", f"max-age={hsts}; includeSubDomains")
        return response

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> PlainTextResponse:
        """Liveness only: says nothing about records, so it needs no credentials (load balancers)."""
        return PlainTextResponse("ok")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_html(request):
            if exc.status_code == 401:
                here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(here, safe='/')}", status_code=303)
            return error_page(request, exc.status_code, str(exc.detail))
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "body"))
        message = f"{where}: {first.get('msg')}" if where else str(first.get("msg"))
        if _wants_html(request):
            return error_page(request, 422, message)
        return JSONResponse({"detail": message}, status_code=422)

    @app.exception_handler(CommunisError)
    async def archive_error(request: Request, exc: CommunisError) -> Response:
        """Every error Communis raises on purpose, answered with its class's `http_status` and its one line:
        the one place errors become HTTP (routes and use cases never map them themselves)."""
        status = exc.http_status
        if _wants_html(request):
            return error_page(request, status, exc.one_line())
        return JSONResponse({"detail": exc.one_line()}, status_code=status)

    from .openapi import add_openapi_route

    add_openapi_route(app)
    return app


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and request.url.path != "/openapi.json"
