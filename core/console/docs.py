"""The API docs page, offline: Swagger UI's files are served by the app itself
(``static/docs``, from the npm package ``swagger-ui-dist`` 5.35.0), and the two ways to
authenticate are declared so that Swagger's *Authorize* button works — a bearer key
(machines) and the console's session cookie (people logged in at ``/login``)."""

from __future__ import annotations

from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityRequirement, SecurityScheme

from core.people.sessions import COOKIE

ASSETS = "/static/docs"

SECURITY_SCHEMES = {
    "bearer": SecurityScheme(
        type="http",
        scheme="bearer",
        description="An API key: `tousu users key NAME --tenant SLUG` prints one.",
    ),
    "session": SecurityScheme(
        type="apiKey",
        name=COOKIE,
        security_scheme_in="cookie",
        description="The console's session (log in at /login). Writes also need the "
        "`x-csrftoken` header.",
    ),
}
SECURITY: list[SecurityRequirement] = [{"bearer": []}, {"session": []}]


def swagger(path: str | list[str]) -> SwaggerRenderPlugin:
    return SwaggerRenderPlugin(
        js_url=f"{ASSETS}/swagger-ui-bundle.js",
        css_url=f"{ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
        favicon="<link rel='icon' href='data:,'>",
        path=path,
    )


def components() -> Components:
    return Components(security_schemes=dict(SECURITY_SCHEMES))
