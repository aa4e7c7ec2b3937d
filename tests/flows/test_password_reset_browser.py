"""The reset page in a real browser at a phone's width: headless Chromium through Playwright
types a password too short, reads the error on the page, then a good one twice."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.devtools.local_telegram import LocalBotApi
from bot.runtime.running import RunningBot
from tests.support.chat import answer, create_account
from tests.support.smtp_server import SmtpServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}


async def test_a_phone_browser_chooses_a_new_password(
    running_bot: RunningBot, telegram: LocalBotApi, smtp: SmtpServer
) -> None:
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip(f"Chromium not installed: {CHROMIUM} is missing (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.async_api")

    family = telegram.user(user_id=2001, first_name="Rose")
    _, link = await create_account(family, "rose.perez@gmail.com")
    await smtp.wait_for_message()
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
            await page.goto(link)  # the account verified first, as a family would
            # The chat hears of it through the update queue, maybe after the page has loaded:
            # that news must not be taken for the answer to /recuperar.
            await family.wait_for(lambda m: "Estado de cuenta: Verificado" in m["text"])
            await answer(family, "/recuperar", "correo electrónico de su cuenta")
            await answer(family, "rose.perez@gmail.com", "Si ese correo tiene una cuenta")
            plain = (await smtp.wait_for_message()).get_body(("plain",)).get_content()
            found = re.search(r"http://\S+/reset/[A-Za-z0-9_-]+", plain)
            assert found, plain

            await page.goto(found.group(0))
            await page.fill("#password", "corta")
            await page.fill("#again", "corta")
            await page.click("button[type=submit]")
            error = page.locator(".error")
            await error.wait_for()
            assert "8 caracteres" in await error.inner_text()
            # Fits the phone's width: nothing to scroll sideways.
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"]

            await page.fill("#password", "Nueva-Clave-2025")
            await page.fill("#again", "Nueva-Clave-2025")
            await page.click("button[type=submit]")
            await page.get_by_text("Su contraseña fue cambiada.").wait_for()
        finally:
            await browser.close()
    await family.wait_for(lambda m: "Su contraseña fue cambiada" in m["text"])
