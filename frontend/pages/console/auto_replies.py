"""Auto-replies in the console: the list in the order rules are tried, a form per rule
(keyword rules, the welcome and the default reply), delete, and a "try it" box.

Thin: validation, matching and the regex time limit are ``conversations.autoreplies``.
The "try it" box on the list asks the saved rules; the one on a rule's form also tries
the rule as it is being typed (``try_text(draft=...)``), before anything is saved. A
regular expression that runs out of time on the sample is skipped and said so, never a
hang. Managers and owners edit; a suspended shop may still try (it changes nothing).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST

from loyalchat import i18n
from loyalchat import texts as shop_texts
from loyalchat.bounds import PathId
from loyalchat.conversations import autoreplies
from loyalchat.conversations.autoreplies import AutoReplyIn, AutoReplyOut, Matched
from loyalchat.conversations.tables import ReplyMatch
from loyalchat.domain import DomainError, NotFound
from loyalchat.frontend import ui
from loyalchat.frontend.pages.common import form_fields as ff
from loyalchat.frontend.pages.common import localized
from loyalchat.frontend.pages.common.display import base_context
from loyalchat.i18n import LANGUAGE_NAMES, N_
from loyalchat.languages import LOCALES
from loyalchat.tenants.access import NO_WRITES
from loyalchat.tenants.auth import role_required
from loyalchat.tenants.tables import Role

AUTO_REPLY = {"tenant_object": "auto_reply"}
MANAGER = (role_required(Role.manager),)
MAX_SAMPLE = 1000

MATCHES = {
    ReplyMatch.exact.value: N_("The whole message is"),
    ReplyMatch.contains.value: N_("The message contains"),
    ReplyMatch.regex.value: N_("The message matches a regular expression"),
    ReplyMatch.welcome.value: N_("Welcome, after a customer joins"),
    ReplyMatch.default.value: N_("Default, when nothing else answers"),
}
PROBLEMS = {
    "match": N_("Choose when the reply is sent."),
    "pattern_missing": N_("Type the word or pattern a message must match."),
    "pattern_long": N_("At most 200 printable characters."),
    "pattern_regex": N_("This is not a regular expression Python reads: %(error)s"),
    "pattern_none": N_("A welcome or default reply has no pattern: leave it empty."),
    "reply_blank": N_("Write the reply in at least one language."),
    "reply_long": N_("At most 1000 characters in each language."),
    "language": N_("Choose a language, or every language."),
    "priority": N_("A whole number from -1000 to 1000."),
    "too_many": N_("A shop has at most 200 auto-replies. Delete one first."),
}


# -- the form -----------------------------------------------------------------------------


def blank_form(match: str = "") -> dict[str, Any]:
    return {"match": match if match in MATCHES else ReplyMatch.contains.value, "active": "1"}


def rule_form(rule: AutoReplyOut) -> dict[str, Any]:
    return {
        "auto_reply_id": str(rule.id),
        "match": rule.match,
        "pattern": rule.pattern,
        **localized.form_fields("reply", rule.reply),
        "language": rule.language,
        "priority": str(rule.priority),
        "active": "1" if rule.active else "",
    }


def _pattern_problem(request: Request, data: AutoReplyIn) -> str:
    pattern = data.pattern.strip()
    if data.match not in autoreplies.KEYWORD_KINDS:
        return i18n.gettext(request, PROBLEMS["pattern_none"])
    if not pattern:
        return i18n.gettext(request, PROBLEMS["pattern_missing"])
    if len(pattern) > autoreplies.MAX_PATTERN or not pattern.isprintable():
        return i18n.gettext(request, PROBLEMS["pattern_long"])
    # The service's words after the colon: Python's own description of the mistake.
    detail = autoreplies.auto_reply_problems(data).get("pattern", "").split(": ", 1)[-1]
    return i18n.gettext(request, PROBLEMS["pattern_regex"], error=detail)


def read_rule(request: Request, form: dict[str, str]) -> tuple[AutoReplyIn, dict[str, str]]:
    """The rule typed on the form and every problem with it, in the reader's language."""
    check = ff.Collect()
    priority = check(ff.whole, form, "priority", minimum=-100_000, maximum=100_000)
    reply = localized.form_value(form, "reply")
    data = AutoReplyIn(
        match=form.get("match", ""),
        pattern=form.get("pattern", "")[: autoreplies.MAX_PATTERN * 4],
        reply=reply,
        language=form.get("language", ""),
        priority=priority or 0,
        active=ff.checked(form, "active"),
    )
    errors = ff.messages(request, ff.FormErrors(check.errors)) if check.errors else {}
    for field in autoreplies.auto_reply_problems(data):
        if field in errors:
            continue
        if field == "pattern":
            errors[field] = _pattern_problem(request, data)
        elif field == "reply":
            key = "reply_blank" if shop_texts.is_blank(reply) else "reply_long"
            errors[field] = i18n.gettext(request, PROBLEMS[key])
        else:
            errors[field] = i18n.gettext(request, PROBLEMS.get(field, ff.REQUIRED))
    return data, errors


# -- try it -----------------------------------------------------------------------------


async def _try(
    request: Request, form: dict[str, str], draft: AutoReplyIn | None, draft_id: int | None
) -> dict[str, Any]:
    """The "try it" box: the sample, its language and what answers it."""
    sample = form.get("sample", "").strip()[:MAX_SAMPLE]
    locale = form.get("try_locale", "")
    locale = locale if locale in LOCALES else i18n.locale_of(request)
    result: Matched | None = None
    if sample:
        result = await autoreplies.try_text(sample, locale, draft=draft, draft_id=draft_id)
    rules = {rule.id: rule for rule in await autoreplies.list_auto_replies()}
    return {
        "sample": sample,
        "try_locale": locale,
        "result": result,
        "answered_by": rules.get(result.rule_id) if result and result.rule_id else None,
        "draft_answered": bool(draft and result and result.rule_id == (draft_id or 0)),
        "slow": [rules.get(n) for n in result.timed_out] if result else [],
        "draft_slow": bool(draft and result and (draft_id or 0) in result.timed_out),
    }


def _context(request: Request, **context: Any) -> dict[str, Any]:
    return base_context(
        request,
        MATCHES=MATCHES,
        LANGUAGES=LANGUAGE_NAMES,
        KEYWORD_KINDS=autoreplies.KEYWORD_KINDS,
        **context,
    )


async def _list_page(request: Request, tried: dict[str, Any] | None = None) -> Template:
    return Template(
        "console/auto_replies/list.html",
        context=_context(
            request,
            rules=await autoreplies.list_auto_replies(),
            tried=tried or await _try(request, {}, None, None),
        ),
    )


async def _form_page(
    request: Request,
    rule: AutoReplyOut | None,
    form: dict[str, Any],
    errors: dict[str, str] | None = None,
    tried: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        "console/auto_replies/form.html",
        context=_context(
            request,
            rule=rule,
            form=form,
            errors=errors or {},
            tried=tried or await _try(request, {}, None, None),
        ),
        status_code=status_code,
    )


async def _rule_or_404(rule_id: int) -> AutoReplyOut:
    try:
        return await autoreplies.get_auto_reply(rule_id)
    except NotFound:
        raise NotFoundException() from None


class AutoRepliesController(Controller):
    path = "/console/auto-replies"
    include_in_schema = False
    guards = MANAGER

    @get("/")
    async def list_rules(self, request: Request) -> Template:
        return await _list_page(request)

    @post("/try", status_code=200, opt=NO_WRITES)  # a suspended shop may try
    async def try_it(self, request: Request) -> Template:
        """What answers the sample: the saved rules, with the form's rule as typed when the
        box is on a rule's form (``draft=1``). htmx swaps the result in; without it the
        page comes back with the result."""
        form = await ui.form_data(request)
        editing = form.get("draft") == "1"
        draft, errors, rule = None, {}, None
        try:
            draft_id = ff.whole(form, "auto_reply_id", minimum=1) if editing else None
        except ff.FieldError:
            draft_id = None
        if draft_id:
            rule = await _rule_or_404(draft_id)
        if editing:
            draft, errors = read_rule(request, form)
        if errors:  # the rule as typed cannot run: try the saved rules, and say why
            draft = None
        tried = await _try(request, form, draft, draft_id)
        tried["draft_errors"] = bool(editing and errors)
        if request.headers.get("hx-request") == "true":
            return Template(
                "console/auto_replies/_try.html", context=_context(request, tried=tried)
            )
        if editing:
            return await _form_page(request, rule, form, errors, tried)
        return await _list_page(request, tried)

    @get("/new")
    async def new_rule(self, request: Request, match: FromQuery[str] = "") -> Template:
        return await _form_page(request, None, blank_form(match))

    @post("/", status_code=303)
    async def create(self, request: Request) -> Response[Any]:
        form = await ui.form_data(request)
        data, errors = read_rule(request, form)
        if not errors:
            try:
                await autoreplies.create_auto_reply(data)
            except DomainError as exc:
                errors = {
                    "form": i18n.gettext(
                        request,
                        PROBLEMS["too_many"] if exc.code == "too_many_rules" else PROBLEMS["match"],
                    )
                }
        if errors:
            return await _form_page(request, None, form, errors, status_code=HTTP_400_BAD_REQUEST)
        ui.flash(request, N_("Auto-reply saved."), "success")
        return Redirect("/console/auto-replies", status_code=303)

    @get("/{rule_id:int}", opt=AUTO_REPLY)
    async def edit(self, request: Request, rule_id: PathId) -> Template:
        rule = await _rule_or_404(rule_id)
        return await _form_page(request, rule, rule_form(rule))

    @post("/{rule_id:int}", opt=AUTO_REPLY, status_code=303)
    async def update(self, request: Request, rule_id: PathId) -> Response[Any]:
        rule = await _rule_or_404(rule_id)
        form = await ui.form_data(request)
        data, errors = read_rule(request, form)
        if not errors:
            try:
                await autoreplies.update_auto_reply(rule.id, data)
            except NotFound:
                raise NotFoundException() from None
        if errors:
            return await _form_page(request, rule, form, errors, status_code=HTTP_400_BAD_REQUEST)
        ui.flash(request, N_("Auto-reply saved."), "success")
        return Redirect("/console/auto-replies", status_code=303)

    @post("/{rule_id:int}/delete", opt=AUTO_REPLY, status_code=303)
    async def delete(self, request: Request, rule_id: PathId) -> Redirect:
        rule = await _rule_or_404(rule_id)
        try:
            await autoreplies.delete_auto_reply(rule.id)
        except NotFound:
            raise NotFoundException() from None
        ui.flash(request, N_("Auto-reply deleted."), "success")
        return Redirect("/console/auto-replies", status_code=303)
