"""The operator's side: settings from the environment and `.env`, and one clear line when wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, async_database_url, load_settings

ROOT = Path(__file__).resolve().parent.parent
FIELDS = set(Settings.model_fields)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No setting leaks in from the developer's environment or from a `.env` in the cwd."""
    for name in list(os.environ):
        if name.lower() in FIELDS:
            monkeypatch.delenv(name, raising=False)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def error_of(**values: object) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, **values)
    return str(caught.value)


def assert_one_line_naming(message: str, variable: str) -> None:
    assert "\n" not in message.strip(), message
    assert message.startswith(f"{variable}:"), message
    assert "Traceback" not in message
    assert "pydantic" not in message.lower(), message  # no library noise or docs links


# --- defaults ---------------------------------------------------------------------------------


def test_defaults(clean_environment: Path) -> None:
    settings = load_settings(_env_file=None)

    assert settings.web_host == "127.0.0.1"
    assert settings.web_port == 8080
    assert settings.data_dir == Path("./data")
    assert settings.database_url is None
    expected = (clean_environment / "data" / "bot.sqlite3").resolve()
    assert settings.database_url_async == f"sqlite+aiosqlite:///{expected}"
    assert settings.public_url is None
    assert settings.link_base == "http://127.0.0.1:8080"
    assert settings.smtp_host is None
    assert settings.smtp_port is None
    assert settings.smtp_security == "none"
    assert settings.log_level == "INFO"
    assert settings.verification_ttl_hours == 48
    assert settings.email_check_deliverability is False
    assert settings.telegram_bot_token is None
    assert settings.outbox_dir == Path("./data") / "outbox"


def test_the_sqlite_file_lives_under_data_dir(tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, data_dir=tmp_path / "store")

    assert settings.database_url_async == (
        f"sqlite+aiosqlite:///{(tmp_path / 'store' / 'bot.sqlite3').resolve()}"
    )


def test_link_base_from_host_and_port_or_public_url() -> None:
    assert load_settings(_env_file=None, web_host="0.0.0.0", web_port=9000).link_base == (
        "http://0.0.0.0:9000"
    )
    for public_url in ("https://bot.example.org/", "https://bot.example.org"):
        settings = load_settings(_env_file=None, public_url=public_url, web_port=9000)
        assert settings.link_base == "https://bot.example.org"
    settings = load_settings(_env_file=None, public_url="https://example.org/ninez///")
    assert settings.link_base == "https://example.org/ninez"


# --- environment variables and .env -----------------------------------------------------------


def test_reads_environment_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WEB_HOST", "0.0.0.0")
    monkeypatch.setenv("WEB_PORT", "9090")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PUBLIC_URL", "https://ninez.example.cl/")
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:secret@db:5432/bot")
    monkeypatch.setenv("SMTP_HOST", "smtp.example.cl")
    monkeypatch.setenv("SMTP_PORT", "587")
    monkeypatch.setenv("SMTP_SECURITY", "STARTTLS")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("VERIFICATION_TTL_HOURS", "12")
    monkeypatch.setenv("EMAIL_CHECK_DELIVERABILITY", "true")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")

    settings = load_settings(_env_file=None)

    assert settings.web_host == "0.0.0.0"
    assert settings.web_port == 9090
    assert settings.data_dir == tmp_path / "state"
    assert settings.link_base == "https://ninez.example.cl"
    assert settings.database_url_async == "postgresql+asyncpg://bot:secret@db:5432/bot"
    assert settings.smtp_host == "smtp.example.cl"
    assert settings.smtp_port == 587
    assert settings.smtp_security == "starttls"
    assert settings.log_level == "DEBUG"
    assert settings.verification_ttl_hours == 12
    assert settings.email_check_deliverability is True
    assert settings.telegram_bot_token == "123:abc"


def test_reads_a_dotenv_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# a comment\n"
        "WEB_PORT=8181\n"
        "PUBLIC_URL=https://bot.example.org/\n"
        "DATABASE_URL=postgres://u@localhost/bot\n"
        "MAIL_FROM=Programa Niñez Migrante <no-reply@example.org>\n"
        "SMTP_PASSWORD=hunter2\n",
        encoding="utf-8",
    )

    settings = Settings(_env_file=env_file)

    assert settings.web_port == 8181
    assert settings.link_base == "https://bot.example.org"
    assert settings.database_url_async == "postgresql+asyncpg://u@localhost/bot"
    assert settings.mail_from == "Programa Niñez Migrante <no-reply@example.org>"
    assert settings.smtp_password == "hunter2"
    assert "hunter2" not in repr(settings)  # the password stays out of logs and tracebacks


def test_the_environment_wins_over_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("WEB_PORT=8181\nWEB_HOST=10.0.0.1\n", encoding="utf-8")
    monkeypatch.setenv("WEB_PORT", "8282")

    settings = Settings(_env_file=env_file)

    assert settings.web_port == 8282
    assert settings.web_host == "10.0.0.1"


def test_dotenv_in_the_working_directory_is_read_by_default(clean_environment: Path) -> None:
    (clean_environment / ".env").write_text("WEB_PORT=8383\n", encoding="utf-8")

    assert load_settings().web_port == 8383


def test_empty_values_in_dotenv_mean_unset(tmp_path: Path) -> None:
    # `.env.example` copied as is, with every value left empty: "leave empty to use its default".
    names = [
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    ]
    names = [name for name in names if name and not name.startswith("#")]
    assert {"WEB_PORT", "DATABASE_URL", "SMTP_PORT", "SMTP_SECURITY"} <= set(names)
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{name}=\n" for name in names), encoding="utf-8")

    settings = load_settings(_env_file=env_file)

    assert settings == load_settings(_env_file=None)
    assert settings.web_port == 8080
    assert settings.web_host == "127.0.0.1"
    assert settings.data_dir == Path("./data")
    assert settings.database_url is None
    assert settings.public_url is None
    assert settings.smtp_host is None
    assert settings.smtp_port is None
    assert settings.smtp_password is None
    assert settings.telegram_bot_token is None
    assert settings.link_base == "http://127.0.0.1:8080"


def test_the_example_file_itself_is_valid(tmp_path: Path) -> None:
    settings = load_settings(_env_file=ROOT / ".env.example")

    assert settings.web_port == 8080
    assert settings.database_url is None
    assert settings.smtp_host is None


# --- database URLs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("postgresql://u:p@h:5432/db", "postgresql+asyncpg://u:p@h:5432/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///relative.db", "sqlite+aiosqlite:///relative.db"),
        ("sqlite:////abs/path.db", "sqlite+aiosqlite:////abs/path.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_database_urls_become_async(written: str, expected: str) -> None:
    assert async_database_url(written) == expected
    assert load_settings(_env_file=None, database_url=written).database_url_async == expected


# --- wrong settings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("WEB_PORT", "abc"),
        ("WEB_PORT", "70000"),
        ("SMTP_PORT", "0"),
        ("SMTP_SECURITY", "ssl"),
        ("PUBLIC_URL", "ftp://x"),
        ("TELEGRAM_BASE_URL", "localhost:8081"),
        ("DATABASE_URL", "mysql://x"),
        ("DATABASE_URL", "bot.sqlite3"),
        ("LOG_LEVEL", "loud"),
        ("VERIFICATION_TTL_HOURS", "0"),
        ("MAIL_FROM", "Programa Niñez Migrante"),
    ],
)
def test_a_wrong_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)

    assert_one_line_naming(str(caught.value), variable)


def test_a_wrong_setting_in_dotenv_is_one_line_naming_it(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("WEB_PORT=abc\n", encoding="utf-8")

    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=env_file)

    assert_one_line_naming(str(caught.value), "WEB_PORT")


def test_a_wrong_keyword_is_one_line_naming_it() -> None:
    assert_one_line_naming(error_of(web_port="abc"), "WEB_PORT")
    assert_one_line_naming(error_of(smtp_security="ssl"), "SMTP_SECURITY")
    assert_one_line_naming(error_of(public_url="ftp://x"), "PUBLIC_URL")
    assert_one_line_naming(error_of(database_url="mysql://x"), "DATABASE_URL")


def test_the_database_password_is_not_repeated_in_the_error() -> None:
    message = error_of(database_url="mysql://bot:s3cr3t-pw@db/bot")

    assert_one_line_naming(message, "DATABASE_URL")
    assert "s3cr3t-pw" not in message


def test_several_wrong_settings_are_all_named_on_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEB_PORT", "abc")
    monkeypatch.setenv("SMTP_SECURITY", "ssl")

    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)

    message = str(caught.value)
    assert "\n" not in message
    assert "WEB_PORT" in message
    assert "SMTP_SECURITY" in message


# --- the real command line --------------------------------------------------------------------


def test_python_m_bot_with_a_wrong_port_exits_2_with_one_line(tmp_path: Path) -> None:
    cwd = tmp_path / "empty"
    cwd.mkdir()
    env = {name: value for name, value in os.environ.items() if name.lower() not in FIELDS}
    env.update({"WEB_PORT": "abc", "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"})

    done = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        stdin=subprocess.DEVNULL,
    )

    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "WEB_PORT" in lines[0]
    assert "Traceback" not in done.stderr
    assert not (cwd / "data").exists()  # nothing was started or created
