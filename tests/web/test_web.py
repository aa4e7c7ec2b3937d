"""The link pages over real HTTP: uvicorn in the test's loop, httpx as the browser."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from importlib.resources import files
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.routing import Route

from bot.accounts import VerifyOutcome, VerifyStatus
from bot.web.pages import WebServer, build_web_app

OUTCOMES = {
    "tokVerified": VerifyOutcome(VerifyStatus.VERIFIED, telegram_chat_id=1, first_name="Ana"),
    "tokAgain": VerifyOutcome(VerifyStatus.ALREADY_VERIFIED, telegram_chat_id=1),
    "tokUnknown": VerifyOutcome(VerifyStatus.UNKNOWN),
    "tokExpired": VerifyOutcome(VerifyStatus.EXPIRED),
    "tok_Html-1": VerifyOutcome(VerifyStatus.VERIFIED, first_name="<b>Ana</b> & Co"),
    "tokScript": VerifyOutcome(
        VerifyStatus.VERIFIED, first_name='<script>alert("x")</script>', locale="es-CL"
    ),
}

ROOT = Path(__file__).resolve().parents[2]

PORTAL_HOME = (
    "Iniciar trámite",
    "Bandeja de Entrada (0)",
    "Sin asignar",
    "Historial de Trámites (0)",
    "Listado de trámites disponibles",
    "Solicitud de Residencias temporales para extranjeros dentro de Chile",
    "Certificado de Permanencia Definitiva",
    "Consulta de Estado de Beneficios Migratorios",
)


class FakeAccounts:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.down = False
        self.healthy = True

    async def verify(self, token: str) -> VerifyOutcome:
        self.calls.append(token)
        if self.down:
            raise ConnectionError("database is down")
        return OUTCOMES.get(token, VerifyOutcome(VerifyStatus.UNKNOWN))

    async def health(self) -> dict:
        return {"ok": self.healthy, "database": "up" if self.healthy else "down"}


async def _boom(request: Request) -> None:
    raise RuntimeError("bug in a page")


@pytest.fixture
def accounts() -> FakeAccounts:
    return FakeAccounts()


@pytest.fixture
async def client(accounts: FakeAccounts) -> AsyncIterator[httpx.AsyncClient]:
    app = build_web_app(
        verify=accounts.verify,
        health=accounts.health,
        extra_routes=[Route("/boom", _boom)],
    )
    server = WebServer(app, "127.0.0.1", 0)
    await server.start()
    assert server.port != 0
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            yield http
    finally:
        await server.stop()


def assert_page(response: httpx.Response, status: int, *texts: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    body = response.text
    assert '<html lang="es">' in body and 'name="viewport"' in body
    assert "Servicio Nacional de Migraciones" in body and "Programa Niñez Migrante" in body
    assert "http://" not in body and "https://" not in body  # self-contained
    for text in texts:
        assert text in body, text


async def test_verified(client: httpx.AsyncClient, accounts: FakeAccounts) -> None:
    response = await client.get("/validate/tokVerified")
    assert_page(
        response,
        200,
        "Hola, Ana.",
        "Estado de cuenta: Verificado",
        "Su cuenta ha sido correctamente verificada.",
        "Ya puede volver al chat de Telegram: el asistente le avisó allí.",
        *PORTAL_HOME,
    )
    assert accounts.calls == ["tokVerified"]


async def test_already_verified(client: httpx.AsyncClient) -> None:
    response = await client.get("/validate/tokAgain")
    assert_page(
        response,
        200,
        "Su cuenta ya estaba verificada.",
        "Estado de cuenta: Verificado",
        *PORTAL_HOME,
    )
    assert "Hola," not in response.text


async def test_first_name_is_escaped(client: httpx.AsyncClient) -> None:
    response = await client.get("/validate/tok_Html-1")
    assert_page(response, 200, "Hola, &lt;b&gt;Ana&lt;/b&gt; &amp; Co.")
    assert "<b>Ana</b>" not in response.text


async def test_a_script_in_a_template_placeholder_is_only_text(client: httpx.AsyncClient) -> None:
    response = await client.get("/validate/tokScript")
    assert_page(response, 200, "Hola, &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;.")
    assert "<script" not in response.text


async def test_every_page_has_its_title_and_the_security_headers(
    client: httpx.AsyncClient,
) -> None:
    pages = {
        "/validate/tokVerified": "<title>Cuenta Validada — Servicio Nacional de Migraciones<",
        "/validate/tokExpired": "<title>Este enlace ya expiró. — Servicio Nacional",
        "/": "<title>Programa Niñez Migrante — Servicio Nacional",
    }
    for path, title in pages.items():
        response = await client.get(path)
        assert title in response.text, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "{{" not in response.text and "{%" not in response.text


async def test_unknown(client: httpx.AsyncClient) -> None:
    response = await client.get("/validate/tokUnknown")
    assert_page(response, 404, "Este enlace no es válido.", "enlace completo", "/reenviar")


async def test_expired(client: httpx.AsyncClient) -> None:
    response = await client.get("/validate/tokExpired")
    assert_page(response, 410, "Este enlace ya expiró.", "/reenviar", "enlace nuevo")


@pytest.mark.parametrize("token", ["a" * 201, "abc.def", "abc%20def", "tok%C3%B1", "a=b"])
async def test_malformed_token_is_not_looked_up(
    client: httpx.AsyncClient, accounts: FakeAccounts, token: str
) -> None:
    response = await client.get(f"/validate/{token}")
    assert_page(response, 404, "Este enlace no es válido.")
    assert accounts.calls == []


async def test_longest_acceptable_token_is_looked_up(
    client: httpx.AsyncClient, accounts: FakeAccounts
) -> None:
    response = await client.get("/validate/" + "a" * 200)
    assert response.status_code == 404
    assert accounts.calls == ["a" * 200]


async def test_database_down(
    client: httpx.AsyncClient, accounts: FakeAccounts, caplog: pytest.LogCaptureFixture
) -> None:
    accounts.down = True
    with caplog.at_level(logging.ERROR, logger="bot.web.pages"):
        response = await client.get("/validate/tokVerified")
    assert_page(
        response,
        503,
        "El servicio no está disponible en este momento. Intente de nuevo en unos minutos.",
    )
    assert response.headers["retry-after"] == "60"
    assert "Traceback" not in response.text
    assert any(r.name == "bot.web.pages" and r.exc_info for r in caplog.records)


async def test_head_does_not_verify(client: httpx.AsyncClient, accounts: FakeAccounts) -> None:
    response = await client.head("/validate/tokVerified")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["cache-control"] == "no-store"
    assert accounts.calls == []
    # The person's own GET afterwards still verifies.
    assert (await client.get("/validate/tokVerified")).status_code == 200
    assert accounts.calls == ["tokVerified"]


async def test_post_is_not_allowed(client: httpx.AsyncClient, accounts: FakeAccounts) -> None:
    response = await client.post("/validate/tokVerified")
    assert response.status_code == 405
    assert accounts.calls == []


async def test_home_and_unknown_path(client: httpx.AsyncClient) -> None:
    assert_page(await client.get("/"), 200, "Programa Niñez Migrante — asistente de Telegram")
    assert_page(await client.get("/no/such/page"), 404, "Esta página no existe.")


async def test_error_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom")
    assert_page(response, 500, "Ocurrió un error; intente de nuevo")
    assert "RuntimeError" not in response.text and "Traceback" not in response.text


async def test_healthz(client: httpx.AsyncClient, accounts: FakeAccounts) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "database": "up"}
    accounts.healthy = False
    response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["ok"] is False


async def test_healthz_without_a_check() -> None:
    server = WebServer(build_web_app(verify=FakeAccounts().verify), "127.0.0.1", 0)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            response = await http.get("/healthz")
    finally:
        await server.stop()
    assert response.status_code == 200
    assert response.json() == {"ok": True}


async def test_port_taken_is_a_clear_error() -> None:
    app = build_web_app(verify=FakeAccounts().verify)
    first = WebServer(app, "127.0.0.1", 0)
    await first.start()
    try:
        second = WebServer(app, "127.0.0.1", first.port)
        with pytest.raises(OSError, match=f"127.0.0.1:{first.port}"):
            await second.start()
        await second.stop()  # harmless after a failed start
    finally:
        await first.stop()


@pytest.mark.parametrize(
    ("package", "template"), [("bot.web", "base.html"), ("bot.mail", "verification.html")]
)
def test_the_templates_ship_with_the_package(package: str, template: str, tmp_path: Path) -> None:
    """The package, as setuptools builds it for an install, holds every template."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    for folder in ("bot", "conversations"):
        shutil.copytree(
            ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    built = tmp_path / "built"
    build = "from setuptools import setup; setup()"
    subprocess.run(
        [sys.executable, "-c", build, "-q", "build_py", "--build-lib", str(built)],
        cwd=source,
        check=True,
        capture_output=True,
    )

    templates = files(package) / "templates"
    names = sorted(t.name for t in templates.iterdir() if t.is_file())
    shipped = built.joinpath(*package.split("."), "templates")
    assert template in names
    assert sorted(p.name for p in shipped.iterdir()) == names
