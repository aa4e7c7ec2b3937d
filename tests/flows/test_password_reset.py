"""A family that forgot its password: /recuperar in the chat, the link by e-mail only, and the
new password chosen on the web page, over real HTTP, with the real bot, SMTP and database."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage

import httpx
from sqlmodel import select

from bot.devtools.local_telegram import LocalBotApi, LocalUser
from bot.runtime.running import RunningBot
from bot.storage import Account, utcnow
from conversations.callbacks import ASK_RESET
from tests.support.chat import PASSWORD, answer, create_account, settle, texts_of
from tests.support.smtp_server import SmtpServer

SAME_ANSWER = "Si ese correo tiene una cuenta, le enviamos un enlace"
NEW_PASSWORD = "Nueva-Clave-2025"
EMAIL = "rose.perez@gmail.com"
_CHECK = re.compile(r'name="check" value="([0-9a-f]+)"')


async def verified_account(
    running_bot: RunningBot, telegram: LocalBotApi, smtp: SmtpServer
) -> LocalUser:
    family = telegram.user(user_id=2001, first_name="Rose")
    _, link = await create_account(family, EMAIL)
    await smtp.wait_for_message()  # the verification e-mail
    async with httpx.AsyncClient() as client:
        assert (await client.get(link)).status_code == 200
    await family.wait_for(lambda m: "Estado de cuenta: Verificado" in m["text"])
    return family


async def ask_reset(user: LocalUser, email: str) -> str:
    await answer(user, "/recuperar", "escriba el correo electrónico de su cuenta")
    return (await answer(user, email, SAME_ANSWER))["text"]


def reset_link_of(email: EmailMessage) -> str:
    plain = email.get_body(("plain",)).get_content()
    found = re.search(r"http://\S+/reset/[A-Za-z0-9_-]+", plain)
    assert found, plain
    return found.group(0)


async def stored_hash(running_bot: RunningBot) -> str:
    assert running_bot.services is not None
    async with running_bot.services.database.session() as session:
        account = (await session.exec(select(Account))).first()
        assert account is not None
        return str(account.password_hash)


async def matches(running_bot: RunningBot, password: str) -> bool:
    assert running_bot.services is not None
    hashing = running_bot.services.accounts.passwords
    return await hashing.matches(await stored_hash(running_bot), password)


def check_of(page: httpx.Response) -> str:
    found = _CHECK.search(page.text)
    assert found, page.text
    return found.group(1)


async def test_the_chat_answers_alike_and_only_the_address_gets_the_link(
    running_bot: RunningBot, telegram: LocalBotApi, smtp: SmtpServer
) -> None:
    family = await verified_account(running_bot, telegram, smtp)
    stranger = telegram.user(user_id=3003, first_name="Otro")

    unknown = await ask_reset(stranger, "nadie@example.org")
    unverified_or_none = len(smtp.messages)
    known = await ask_reset(stranger, EMAIL.upper())
    assert known == unknown  # nothing tells an address with an account from one without

    email = await smtp.wait_for_message()
    assert email["To"] == EMAIL and len(smtp.messages) == unverified_or_none + 1
    link = reset_link_of(email)
    assert link.startswith(running_bot.link_base + "/reset/")
    assert "1 hora" in email.get_body(("plain",)).get_content()
    assert link in email.get_body(("html",)).get_content()

    await settle(stranger)
    for user in (stranger, family):
        assert not any("/reset/" in text for text in texts_of(user))
    sent = [str(params) for method, params in telegram.requests if method == "sendMessage"]
    assert not any(link in text or "/reset/" in text for text in sent)
    # The token is not kept usable anywhere: only its hash, and the e-mail's copy is erased.
    token = link.rsplit("/", 1)[1]
    assert running_bot.services is not None
    async with running_bot.services.database.engine.connect() as connection:
        rows = (await connection.exec_driver_sql("SELECT * FROM outboxemail")).all()
        tokens = (await connection.exec_driver_sql("SELECT * FROM passwordresettoken")).all()
    assert all(token not in str(row) for row in [*rows, *tokens])
    assert all(row.sealed_token is None for row in rows)


async def test_the_button_and_cancel_and_non_text_are_answered_kindly(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    user = telegram.user(user_id=3004)
    await user.send("/start")
    await user.wait_for()
    await user.press_data(ASK_RESET)
    await user.wait_for(lambda m: "correo electrónico de su cuenta" in m["text"])
    await user.send_sticker()
    await user.wait_for(lambda m: "mensaje de texto" in m["text"])
    await user.press_data("reset:forged:1")
    await user.wait_for(lambda m: "Este botón ya no sirve" in m["text"])
    await answer(user, "no-es-un-correo", "correo")
    await answer(user, "/cancelar", "no cambié nada")
    # Once cancelled, an address is an ordinary message again, not a request.
    reply = await user.reply("nadie@example.org")
    assert SAME_ANSWER not in reply["text"]


async def test_the_page_changes_the_password_once(
    running_bot: RunningBot, telegram: LocalBotApi, smtp: SmtpServer
) -> None:
    family = await verified_account(running_bot, telegram, smtp)
    await ask_reset(family, EMAIL)
    link = reset_link_of(await smtp.wait_for_message())
    before = await stored_hash(running_bot)

    async with httpx.AsyncClient() as client:
        form = await client.get(link)
        assert form.status_code == 200 and 'type="password"' in form.text
        assert "form-action 'self'" in form.headers["content-security-policy"]
        assert form.headers["cache-control"] == "no-store"
        check = check_of(form)
        english = await client.get(link, params={"lang": "en"})
        assert english.status_code == 200 and 'lang="en"' in english.text

        short = await client.post(
            link, data={"check": check, "password": "corta", "again": "corta"}
        )
        assert short.status_code == 422 and "8 caracteres" in short.text
        differ = await client.post(
            link, data={"check": check, "password": NEW_PASSWORD, "again": NEW_PASSWORD + "x"}
        )
        assert differ.status_code == 422 and "no coinciden" in differ.text
        assert await stored_hash(running_bot) == before

        # Without the form's check, or from another site: 403, and nothing changes.
        good = {"password": NEW_PASSWORD, "again": NEW_PASSWORD}
        assert (await client.post(link, data=good)).status_code == 403
        assert (await client.post(link, data={**good, "check": "0" * 64})).status_code == 403
        other_site = await client.post(
            link, data={**good, "check": check}, headers={"Origin": "https://evil.example"}
        )
        assert other_site.status_code == 403
        hidden = await client.post(link, data={**good, "check": check}, headers={"Origin": "null"})
        assert hidden.status_code == 403
        assert await stored_hash(running_bot) == before

        done = await client.post(
            link,
            data={**good, "check": check},
            headers={"Origin": running_bot.link_base},
        )
        assert done.status_code == 200 and "Su contraseña fue cambiada" in done.text
        assert await matches(running_bot, NEW_PASSWORD)
        assert not await matches(running_bot, PASSWORD)
        await family.wait_for(lambda m: "Su contraseña fue cambiada" in m["text"])

        used = await client.get(link)
        assert used.status_code == 410 and "/recuperar" in used.text
        again = await client.post(link, data={**good, "check": check})
        assert again.status_code == 410
        unknown = await client.get(link[:-4] + "AAAA")
        assert unknown.status_code == 404 and "/recuperar" in unknown.text


async def test_an_expired_or_replaced_link_no_longer_works(
    running_bot: RunningBot, telegram: LocalBotApi, smtp: SmtpServer
) -> None:
    family = await verified_account(running_bot, telegram, smtp)
    await ask_reset(family, EMAIL)
    first = reset_link_of(await smtp.wait_for_message())
    await ask_reset(family, EMAIL)
    second = reset_link_of(await smtp.wait_for_message())
    assert running_bot.services is not None
    resets = running_bot.services.resets

    async with httpx.AsyncClient() as client:
        assert (await client.get(first)).status_code == 404  # replaced by the newer one
        form = await client.get(second)
        assert form.status_code == 200
        resets.clock = lambda: utcnow() + timedelta(minutes=61)
        expired = await client.get(second)
        assert expired.status_code == 410 and "expiró" in expired.text
        good = {"password": NEW_PASSWORD, "again": NEW_PASSWORD, "check": check_of(form)}
        assert (await client.post(second, data=good)).status_code == 410
    assert await matches(running_bot, PASSWORD)


async def test_recovery_in_the_middle_of_a_registration_keeps_its_step(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    user = telegram.user(user_id=3005)
    await answer(user, "/crear_cuenta", "Paso 1 de 9")
    await answer(user, "/recuperar", "correo electrónico de su cuenta")
    back = await answer(user, "nadie@example.org", SAME_ANSWER)
    assert "Paso 1 de 9" in back["text"]
    await answer(user, "María", "Paso 2 de 9")


async def test_requests_per_account_are_limited_and_still_answered_alike(
    bot_runner, make_settings, telegram: LocalBotApi, smtp: SmtpServer
) -> None:
    running = await bot_runner.start(make_settings(password_reset_limit_per_hour=1))
    family = await verified_account(running, telegram, smtp)
    await ask_reset(family, EMAIL)
    await smtp.wait_for_message()
    sent = len(smtp.messages)
    await ask_reset(family, EMAIL)  # the same words, and no second e-mail
    await settle(family)
    assert len(smtp.messages) == sent


async def test_an_unverified_account_gets_no_link(
    running_bot: RunningBot, telegram: LocalBotApi, smtp: SmtpServer
) -> None:
    email = "sin.validar@gmail.com"
    family = telegram.user(user_id=2002)
    await create_account(family, email)
    await smtp.wait_for_message()
    await ask_reset(family, email)
    await settle(family)
    assert len(smtp.messages) == 1  # only the verification e-mail
