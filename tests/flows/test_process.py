"""`python -m bot` as a person starts it: as a process, against the Bot API stand-in, and with no
token as a chat in the terminal; stopped by signals."""

from __future__ import annotations

import asyncio
import re
import signal
from pathlib import Path

import httpx
import pytest

from bot.devtools.local_telegram import LocalBotApi
from bot.devtools.specimens import document_photo, passport_zone
from bot.i18n import translator
from tests.support.bot_process import bot_environment

PASSWORD = "Clave-Terminal-99"


async def test_terminal_chat_creates_an_account_and_the_printed_link_verifies_it(
    start_process, tmp_path: Path
) -> None:
    bot = await start_process(bot_environment(tmp_path, LOG_LEVEL="INFO"))
    await bot.read_until("Chat local")
    await bot.type("/start")
    create = (await bot.read_until(r"\[(\d+)\] Crear cuenta")).group(1)
    await bot.type(create)
    for typed, expected in (
        ("Wislande", "Paso 2 de 9"),
        ("Joseph", "Paso 3 de 9"),
        ("Pierre", "Paso 4 de 9"),
        ("12-08-2013", "Paso 5 de 9"),
        ("haiti", "Paso 6 de 9"),
        ("wislande.joseph@gmail.com", "Paso 7 de 9"),
        ("wislande.joseph@gmail.com", "Paso 8 de 9"),
        (PASSWORD, "Paso 9 de 9"),
        (PASSWORD, r"\[1\] No soy un robot"),
        ("1", r"\[\d+\] ✅ Crear cuenta"),
    ):
        await bot.type(typed)
        await bot.read_until(expected)
    create = re.findall(r"\[(\d+)\] ✅ Crear cuenta", bot.seen)[-1]
    await bot.type(create)
    link = (await bot.read_until(r"http://127\.0\.0\.1:\d+/validate/[A-Za-z0-9_-]+")).group(0)

    async with httpx.AsyncClient() as client:
        page = await client.get(link)
    assert page.status_code == 200 and "correctamente verificada" in page.text
    await bot.read_until("Estado de cuenta: Verificado")
    await bot.read_until(r"Bandeja de Entrada \(0\)")

    # The e-mail is written in the background, so it may land a moment after the chat's link.
    outbox_dir = tmp_path / "data" / "outbox"
    async with asyncio.timeout(10):
        while not (outbox := list(outbox_dir.glob("*.eml"))):
            await asyncio.sleep(0.05)
    assert len(outbox) == 1 and link in outbox[0].read_text()
    assert await bot.stop(signal.SIGINT) == 0
    assert "Traceback" not in bot.seen
    # The terminal itself shows what is typed; the bot never prints the password back.
    assert bot.seen.count(PASSWORD) == 0


async def test_the_terminal_chat_starts_in_the_language_asked_for(
    start_process, tmp_path: Path
) -> None:
    bot = await start_process(bot_environment(tmp_path, TERMINAL_LANGUAGE="ht"))
    await bot.read_until("Chat local")
    await bot.type("/start")
    hello = translator("ht")("¡Hola! Soy el asistente del Programa Niñez Migrante.")
    await bot.read_until(re.escape(hello))
    await bot.type("/crear_cuenta")
    await bot.read_until("Nombre — ")


async def test_the_terminal_chat_answers_again_when_started_again_on_the_same_data(
    start_process, tmp_path: Path
) -> None:
    # The bot's ledger keeps the update ids it handled, in DATA_DIR; a second `make run` must
    # not have its first messages taken for redeliveries of the first run's.
    environment = bot_environment(tmp_path)
    for _ in range(2):
        bot = await start_process(environment)
        await bot.read_until("Chat local")
        for typed, expected in (("/crear_cuenta", "Paso 1 de 9"), ("/cancelar", "/crear_cuenta")):
            await bot.type(typed)
            await bot.read_until(expected)
        assert await bot.stop(signal.SIGINT) == 0


async def test_the_terminal_chat_reads_a_script_file_and_a_closed_input(
    start_process, tmp_path: Path
) -> None:
    # `python -m bot < guion.txt`, or a service whose stdin is /dev/null: neither can be
    # watched by the event loop (uvloop's libuv would abort on it), so they are read in a thread.
    script = tmp_path / "guion.txt"
    script.write_text("/crear_cuenta\nMaría José\n")
    # The end of the input ends the chat, as Ctrl+D does, once the bot has answered it.
    with script.open("rb") as given:
        bot = await start_process(bot_environment(tmp_path), stdin=given)
        await bot.read_until("Paso 2 de 9")
        await bot.read_until("fin del chat local")
        assert await asyncio.wait_for(bot.process.wait(), timeout=15) == 0
    bot = await start_process(bot_environment(tmp_path), stdin=asyncio.subprocess.DEVNULL)
    await bot.read_until("fin del chat local")
    assert await asyncio.wait_for(bot.process.wait(), timeout=15) == 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_the_bot_serves_telegram_and_stops_cleanly_on_a_signal(
    start_process, tmp_path: Path, telegram: LocalBotApi, signum: int
) -> None:
    bot = await start_process(
        bot_environment(
            tmp_path,
            TELEGRAM_BOT_TOKEN=telegram.token,
            TELEGRAM_BASE_URL=telegram.base_url,
            LOG_LEVEL="INFO",
        )
    )
    await bot.read_until("bot running")
    welcome = await telegram.user(user_id=7001).reply("/start")
    assert "Niñez Migrante" in welcome["text"]
    assert await bot.stop(signum) == 0
    assert "Traceback" not in bot.seen
    assert telegram.token not in bot.seen


async def test_a_wrong_setting_stops_start_up_with_one_line(start_process, tmp_path: Path) -> None:
    bot = await start_process(bot_environment(tmp_path, SMTP_SECURITY="ssl"))
    assert await asyncio.wait_for(bot.process.wait(), 10) == 2
    await bot.read_until("SMTP_SECURITY")
    assert len(bot.seen.strip().splitlines()) == 1, bot.seen


async def test_telegram_unreachable_at_start_up_is_one_line_not_a_traceback(
    start_process, tmp_path: Path
) -> None:
    bot = await start_process(
        bot_environment(
            tmp_path,
            TELEGRAM_BOT_TOKEN="123:abc",
            TELEGRAM_BASE_URL="http://127.0.0.1:1/bot",
            LOG_LEVEL="WARNING",
        )
    )
    assert await asyncio.wait_for(bot.process.wait(), 30) == 1
    await bot.read_until("No se pudo conectar con Telegram")
    assert "Traceback" not in bot.seen


async def test_the_terminal_chat_fills_the_form_from_a_photo_with_foto(
    start_process, tmp_path: Path
) -> None:
    photo = tmp_path / "pasaporte.jpg"
    photo.write_bytes(document_photo(passport_zone(), angle=4, blur=1.0))
    bot = await start_process(bot_environment(tmp_path, DOCUMENT_READING="true"))
    await bot.read_until("Chat local")
    await bot.type("/crear_cuenta")
    await bot.read_until("foto del pasaporte")
    await bot.type(f"/foto {photo}")
    await bot.read_until("Estoy leyendo")
    await bot.read_until(r"\(el bot borró un mensaje que usted envió\)", within=30)
    await bot.read_until("Apellido Paterno: Rodríguez", within=30)
    use = (await bot.read_until(r"\[(\d+)\] ✅ Usar estos datos")).group(1)
    await bot.type(use)
    await bot.read_until("Paso 6 de 9")
