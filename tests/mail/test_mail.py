"""The validation e-mail and the Mailer, against a real SMTP server and the file outbox."""

from __future__ import annotations

import email
import email.policy
from importlib.resources import files
from pathlib import Path

import pytest
from markupsafe import escape

from bot.mail.sender import Mailer, MailError, MailSettings
from bot.mail.verification import build_verification_email
from tests.support.smtp_server import SmtpServer, unused_port

LINK = "https://ninez.example.cl/validate/J02f10BWN1hhlCumrXzA21S6TyrIHhcgYIym3Y1dsQaW"
TO = "familia.perez@example.com"
FROM = "Programa Niñez Migrante <no-reply@ninez.example.cl>"

SEED_LINES = (
    "Servicio Nacional de Migraciones",
    "Bienvenido al sitio de Trámites de Extranjería del Gobierno de Chile.",
    "Para poder acceder a su cuenta, primero debe validar su correo electrónico "
    "haciendo click en el siguiente enlace:",
    "Validar mi correo electrónico",
    'Si tiene problemas al hacer click en el botón "Validar mi correo electrónico", '
    "copie y pegue la siguiente URL en su navegador web:",
)


def settings(tmp_path: Path, *, host: str | None, port: int | None = None, **extra) -> MailSettings:
    return MailSettings(
        host=host,
        port=port,
        username=extra.pop("username", None),
        password=extra.pop("password", None),
        mail_from=FROM,
        outbox_dir=tmp_path / "outbox",
        timeout=5.0,
        **extra,
    )


def message() -> email.message.EmailMessage:
    return build_verification_email(to=TO, link=LINK, mail_from=FROM)


def parts(received: email.message.EmailMessage) -> tuple[str, str]:
    plain = received.get_body(preferencelist=("plain",))
    html = received.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def test_message_headers_and_escaping() -> None:
    built = build_verification_email(
        to=TO, link="https://x.example/validate/a?b=1&c=<2>", mail_from=FROM
    )
    assert built["Subject"] == "Valide su correo electrónico — Trámites de Extranjería"
    assert built["To"] == TO
    assert built["From"].addresses[0].addr_spec == "no-reply@ninez.example.cl"
    assert built["Date"]
    assert built["Message-ID"].endswith("@ninez.example.cl>")
    assert built.get_content_type() == "multipart/alternative"
    _plain, html = parts(built)
    assert "https://x.example/validate/a?b=1&amp;c=&lt;2&gt;" in html
    assert "<2>" not in html
    assert '<html lang="es">' in html and 'name="viewport"' in html


def test_both_parts_carry_the_link_and_the_seed_sentences() -> None:
    plain, html = parts(message())

    for line in SEED_LINES:
        assert line in plain
        assert escape(line) in html
    assert f"Validar mi correo electrónico:\n{LINK}\n" in plain
    assert f"copie y pegue la siguiente URL en su navegador web: {LINK}\n" in plain
    # In the HTML, the sentence's link is an anchor to it, and so is the button.
    anchor = f'<a href="{LINK}" style="color:#0b5cad;word-break:break-all;">{LINK}</a>'
    assert f"URL en su navegador web: {anchor}</p>" in html
    assert html.count(f'href="{LINK}"') == 2
    assert "gratuito" in plain and "<strong>El trámite es gratuito.</strong>" in html
    assert "<title>Valide su correo electrónico — Trámites de Extranjería</title>" in html
    for leftover in ("{{", "{%", "{link}", "\ue000"):
        assert leftover not in plain and leftover not in html


def test_the_plain_text_is_not_escaped() -> None:
    link = "https://x.example/validate/a?b=1&c=<2>"
    plain, _html = parts(build_verification_email(to=TO, link=link, mail_from=FROM))
    assert plain.count(link) == 2
    assert "&amp;" not in plain and "&#34;" not in plain
    assert '"Validar mi correo electrónico"' in plain


def test_a_regional_locale_gets_the_catalog_it_falls_back_to() -> None:
    built = build_verification_email(to=TO, link=LINK, mail_from=FROM, locale="es-CL")
    assert built["Subject"] == "Valide su correo electrónico — Trámites de Extranjería"
    assert '<html lang="es">' in parts(built)[1]


def test_the_templates_are_found_in_the_package() -> None:
    templates = files("bot.mail") / "templates"
    for name in ("verification.subject.txt", "verification.txt", "verification.html"):
        assert (templates / name).is_file(), name


async def test_sends_the_validation_email_over_smtp(smtp: SmtpServer, tmp_path: Path) -> None:
    mailer = Mailer(settings(tmp_path, host="127.0.0.1", port=smtp.port))
    await mailer.send(message())

    received = await smtp.wait_for_message(timeout=5)
    assert smtp.envelopes[0].rcpt_tos == [TO]
    assert received["To"] == TO
    assert received.get_content_type() == "multipart/alternative"
    plain, html = parts(received)
    for line in SEED_LINES:
        assert line in plain
    for line in SEED_LINES:
        assert escape(line) in html
    assert LINK in plain
    assert f'href="{LINK}"' in html
    assert "gratuito" in plain and "gratuito" in html
    assert not (tmp_path / "outbox").exists()


@pytest.mark.parametrize(("code", "permanent"), [(550, True), (451, False)])
async def test_refused_recipient(
    smtp: SmtpServer, tmp_path: Path, code: int, permanent: bool
) -> None:
    smtp.reject_code = code
    mailer = Mailer(settings(tmp_path, host="127.0.0.1", port=smtp.port))
    with pytest.raises(MailError) as caught:
        await mailer.send(message())
    assert caught.value.permanent is permanent
    assert caught.value.code == code
    assert caught.value.recipient_refused
    assert f"127.0.0.1:{smtp.port}" in str(caught.value)
    assert smtp.envelopes == []


async def test_closed_port_is_not_permanent(tmp_path: Path) -> None:
    mailer = Mailer(settings(tmp_path, host="127.0.0.1", port=unused_port()))
    with pytest.raises(MailError) as caught:
        await mailer.send(message())
    assert caught.value.permanent is False
    assert "127.0.0.1" in str(caught.value)


async def test_error_never_shows_the_password(smtp: SmtpServer, tmp_path: Path) -> None:
    # The test server offers no AUTH, so logging in fails after connecting.
    mailer = Mailer(
        settings(
            tmp_path,
            host="127.0.0.1",
            port=smtp.port,
            username="bot",
            password="s3cr3t-Pa55",
        )
    )
    with pytest.raises(MailError) as caught:
        await mailer.send(message())
    assert "s3cr3t-Pa55" not in str(caught.value)
    assert "s3cr3t-Pa55" not in repr(mailer._settings)


async def test_without_host_the_message_goes_to_the_outbox(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="bot.mail.sender")
    mailer = Mailer(settings(tmp_path, host=None))
    await mailer.send(message())

    files = list((tmp_path / "outbox").iterdir())
    assert len(files) == 1 and files[0].suffix == ".eml"
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert parsed["To"] == TO
    plain, html = parts(parsed)
    assert LINK in plain and LINK in html
    assert str(files[0]) in caplog.text

    await mailer.send(message())
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2
    assert not list((tmp_path / "outbox").glob(".*"))
