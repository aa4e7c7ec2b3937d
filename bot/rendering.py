"""Jinja2 templates translated through the project's gettext catalogs, for pages and e-mails.

One environment per package and locale, built once and never changed afterwards: Jinja renders
from a shared environment safely, whereas installing translations per render would not be.
"""

from __future__ import annotations

from functools import cache

import jinja2
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape

from bot.i18n import normalise_locale, translations


@cache
def environment(package: str, locale: str) -> jinja2.Environment:
    """The templates under `package`'s `templates/` folder, with `_()` in `locale`."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        # HTML is escaped; the plain-text parts of an e-mail must reach the reader as written.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    catalog = translations(normalise_locale(locale))

    # The msgids keep the `{name}` placeholders the Python code uses (Jinja's own `{% trans %}`
    # would make them `%(name)s`, and would mark the translation safe HTML). Under autoescape
    # the translation is escaped as text, and each value too, unless the template built it as
    # markup (a link).
    def fill(eval_ctx: EvalContext, text: str, params: dict) -> str | Markup:
        if eval_ctx.autoescape:
            text = escape(text)
        return text.format(**params) if params else text

    @jinja2.pass_eval_context
    def gettext(eval_ctx: EvalContext, msgid: str, /, **params: object) -> str:
        return fill(eval_ctx, catalog.gettext(msgid), params)

    @jinja2.pass_eval_context
    def ngettext(
        eval_ctx: EvalContext, singular: str, plural: str, n: int, /, **params: object
    ) -> str:
        return fill(eval_ctx, catalog.ngettext(singular, plural, n), {"n": n, **params})

    env.install_gettext_callables(gettext, ngettext, newstyle=False)  # type: ignore[attr-defined]
    return env
