"""Mail templates: Jinja with the gettext catalogue of the reader's language.

A template is ``templates/<name>.txt`` (the plain-text body), optionally with
``templates/<name>.html``. The subject is the .txt template's first line when it reads
``Subject: ...``, else its ``subject`` block. Templates build links with ``url("/path")``,
which is absolute from ``LOYALCHAT_PUBLIC_BASE_URL``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from loyalchat import i18n
from loyalchat.languages import LOCALES
from loyalchat.settings import get_settings

TEMPLATES = Path(__file__).parent / "templates"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_SUBJECT = re.compile(r"^Subject:[ \t]*(.*)$")


class MailTemplateError(LookupError):
    """No template of that name, or it has no subject."""


@dataclass(frozen=True, slots=True)
class RenderedMail:
    subject: str
    text: str
    html: str | None


def absolute_url(path: str) -> str:
    """``path`` (``/signup/verify?token=...``) on the public base URL."""
    if re.match(r"^[a-z][a-z0-9+.-]*://", path):
        return path
    base = get_settings().public_base_url.rstrip("/")
    return f"{base}/{path.lstrip('/')}"


@functools.cache
def _environment(locale: str, html: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=html,  # noqa: S701 (the .txt body is plain text, not HTML)
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals["url"] = absolute_url
    env.globals["locale"] = locale
    return env


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render_mail(template: str, context: dict[str, Any], locale: str = "en") -> RenderedMail:
    """Subject, text and optional HTML of mail ``template`` in ``locale`` (unknown: English)."""
    if not _NAME.match(template):
        raise MailTemplateError(f"bad mail template name {template!r}")
    locale = locale if locale in LOCALES else i18n.DEFAULT_LOCALE
    values = {"product": "loyalchat", **context}
    try:
        text_template = _environment(locale, False).get_template(f"{template}.txt")
    except TemplateNotFound as exc:
        raise MailTemplateError(f"no mail template {template!r}") from exc
    text = text_template.render(values)
    first, _, rest = text.partition("\n")
    subject = ""
    if match := _SUBJECT.match(first):
        subject, text = match.group(1), rest.lstrip("\n")
    elif "subject" in text_template.blocks:
        context_obj = text_template.new_context(values)
        subject = "".join(text_template.blocks["subject"](context_obj))
    subject = _one_line(subject)
    if not subject:
        raise MailTemplateError(f"mail template {template!r} has no subject")
    html = None
    if (TEMPLATES / f"{template}.html").exists():
        html = _environment(locale, True).get_template(f"{template}.html").render(values)
    return RenderedMail(subject=subject, text=text, html=html)
