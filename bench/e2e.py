"""One family's registration, step by step, as the simulated families of the benchmark take it:
what they send or press, and the reply each step must get."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from bot.devtools.local_telegram import LocalUser

PASSWORD = "Clave-Secreta-2024"


@dataclass(frozen=True)
class Step:
    label: str
    kind: str  # "send" or "press"
    value: str  # the text sent, or the button's label
    expect: str  # what the bot's reply must contain
    password: bool = False


def steps(email: str) -> tuple[Step, ...]:
    return (
        Step("/crear_cuenta", "send", "/crear_cuenta", "Paso 1 de 9"),
        Step("1 first names", "send", "María José", "Paso 2 de 9"),
        Step("2 father's surname", "send", "Pérez", "Paso 3 de 9"),
        Step("3 no mother's surname [button]", "press", "No tiene segundo apellido", "Paso 4 de 9"),
        Step("4 birth date", "send", "23-04-2015", "Paso 5 de 9"),
        Step("5 country [button]", "press", "Haití", "Paso 6 de 9"),
        Step("6 e-mail", "send", email, "Paso 7 de 9"),
        Step("7 e-mail again", "send", email.upper(), "Paso 8 de 9"),
        Step("8 password (Argon2 hash)", "send", PASSWORD, "Paso 9 de 9", password=True),
        Step("9 password again (Argon2 verify)", "send", PASSWORD, "no es un robot", password=True),
        Step("human check [button]", "press", "No soy un robot", "Revise los datos"),
        Step("create account [button]", "press", "Crear cuenta", "/validate/"),
    )


STEP_LABELS = [step.label for step in steps("x@gmail.com")]


async def take_step(user: LocalUser, step: Step, patience: float) -> float:
    """Sends or presses, waits for the reply; returns the seconds it took. Raises
    AssertionError when no reply comes in time, RuntimeError when it says something else."""
    start = time.perf_counter()
    if step.kind == "send":
        await user.send(step.value)
    else:
        await user.press(step.value)
    if step.expect == "/validate/":
        # The link is the awaited reply; anything said before it is not.
        message: dict[str, Any] = await user.wait_for(
            lambda m: "/validate/" in m.get("text", ""), timeout=patience
        )
    else:
        message = await user.wait_for(timeout=patience)
    seconds = time.perf_counter() - start
    if step.expect not in message.get("text", ""):
        raise RuntimeError(f"{step.label!r}: expected {step.expect!r}, got {message.get('text')!r}")
    return seconds
