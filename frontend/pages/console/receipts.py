"""The receipt review queue in the console: the list (filters, counts, an age on every
item) and one receipt (the photo with the OCR boxes, the fields read, the checks, the
member and their recent receipts) with the three decisions.

Thin: the lists are ``receipts.queue``, the forms are read by ``receipt_forms``, the page's
shapes come from ``receipt_view``, the decisions are ``receipts.review`` (approve, reject,
ask for a clearer photo), which tell the member in the chat and write the audit log with
``by`` = the signed-in staff member. A decision on a receipt someone already decided
(a double click, two people at once) is refused by the service with ``already_decided``:
the page says who decided it and nothing is credited twice. After a decision the page
opens the next receipt that waits, in the list's order and with the list's filters.

Roles: every staff member (cashier and up) reviews: checking a receipt is front-desk work,
like adding a purchase by hand. A suspended shop reads the queue and decides nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST

from loyalchat import i18n
from loyalchat.bounds import PageNumber, PathId
from loyalchat.context import current_actor
from loyalchat.domain import DomainError, NotFound
from loyalchat.frontend import ui
from loyalchat.frontend.pages.common import form_fields as ff
from loyalchat.frontend.pages.common.display import base_context, display_for, error_message
from loyalchat.frontend.pages.console import receipt_forms as forms
from loyalchat.frontend.pages.console import receipt_view as view
from loyalchat.i18n import N_
from loyalchat.members import service as members
from loyalchat.receipts import queue, review
from loyalchat.tenants.auth import role_required
from loyalchat.tenants.tables import Role

RECEIPT = {"tenant_object": "receipt"}
CASHIER = (role_required(Role.cashier),)
PER_PAGE = 30
RECENT = 8

ALREADY_DECIDED = N_("This receipt was already decided by %(who)s.")
ALREADY_DECIDED_PIPELINE = N_("This receipt was already decided automatically.")
QUEUE_EMPTY = N_("Nothing else to review. Well done!")
STILL_READING = N_("This receipt is still being read and checked. Reload the page in a moment.")


def _filter(request: Request) -> queue.QueueFilter:
    """The list's filters, carried in the query string of every page and form URL."""
    params = request.query_params
    return queue.QueueFilter.parse(
        status=params.get("status", ""),
        reason=params.get("reason", ""),
        channel=params.get("channel", ""),
        member=params.get("member_no", ""),
        since=params.get("since", ""),
        until=params.get("until", ""),
    )


def _qs(chosen: queue.QueueFilter, **changes: Any) -> str:
    values = chosen.query(**changes)
    if "member" in values:
        values["member_no"] = values.pop("member")
    return urlencode(values)


def _receipt_url(receipt_id: int, chosen: queue.QueueFilter) -> str:
    query = _qs(chosen)
    return f"/console/receipts/{receipt_id}" + (f"?{query}" if query else "")


def _list_url(chosen: queue.QueueFilter) -> str:
    query = _qs(chosen)
    return "/console/receipts" + (f"?{query}" if query else "")


def _labels(request: Request, items: list[queue.QueueItem]) -> dict[int, dict[str, Any]]:
    """Per receipt: its age in words and its reasons in words."""
    return {
        item.id: {
            "age": view.age_text(request, item.age),
            "reasons": [view.reason_label(request, code, item.checks) for code in item.reasons],
        }
        for item in items
    }


async def _item_or_404(receipt_id: int) -> queue.QueueItem:
    item = await queue.queue_item(receipt_id)
    if item is None:
        raise NotFoundException()
    return item


def _by() -> str:
    """Who decides, as the receipt and the audit log name them."""
    actor = current_actor()
    return actor.label or actor.ref


def _reject_reasons(request: Request) -> list[tuple[str, str]]:
    return [(code, i18n.gettext(request, text)) for code, text in review.REJECT_REASONS.items()]


async def _detail_page(
    request: Request,
    item: queue.QueueItem,
    chosen: queue.QueueFilter,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    display = display_for(request)
    receipt_row = await queue.receipt_fields(item.id)
    fields = view.as_dict(receipt_row)
    photo_key, boxes = await view.photo_and_boxes(request, item.media_key, fields)
    member = None
    recent: list[queue.QueueItem] = []
    if item.member_id:
        try:
            member = await members.get_member_by_id(item.member_id)
        except NotFound:
            member = None
        recent = [r for r in await queue.member_recent(item.member_id, limit=RECENT + 1)]
        recent = [r for r in recent if r.id != item.id][:RECENT]
    before, after = await queue.neighbours(item.id, chosen, timezone=display.timezone)
    form = dict(form or {})
    if not ff.TOKEN.fullmatch(form.get("token", "")):
        form["token"] = ff.new_token()
    form.setdefault("amount", str(item.total) if item.total is not None else "")
    form.setdefault("receipt_date", item.receipt_date.isoformat() if item.receipt_date else "")
    return Template(
        "console/receipts/detail.html",
        context=base_context(
            request,
            item=item,
            chosen=chosen,
            query=_qs(chosen),
            list_url=_list_url(chosen),
            prev_url=_receipt_url(before, chosen) if before else "",
            next_url=_receipt_url(after, chosen) if after else "",
            photo_key=photo_key,
            original_key=item.media_key,
            boxes=boxes,
            fields=view.fields_read(request, fields),
            checks=view.check_rows(request, item.checks),
            reasons=[view.reason_label(request, code, item.checks) for code in item.reasons],
            age=view.age_text(request, item.age),
            member=member,
            recent=recent,
            recent_labels=_labels(request, recent),
            reject_reasons=_reject_reasons(request),
            form=form,
            errors=errors or {},
            STATUS_LABELS_R=view.STATUS_LABELS,
            CHANNEL_LABELS=view.CHANNEL_LABELS,
        ),
        status_code=status_code,
        headers={"cache-control": "no-store"},
    )


async def _decision_form(
    request: Request, receipt_id: int
) -> tuple[queue.QueueItem, queue.QueueFilter, dict[str, str], ff.Collect]:
    """What every decision starts from: the receipt (404 when it is not this shop's), the
    list's filters to go on with, and the form with its token read into ``check``."""
    item = await _item_or_404(receipt_id)
    chosen = _filter(request)
    form = await ui.form_data(request)
    check = ff.Collect()
    check(ff.token, form)
    return item, chosen, form, check


async def _form_refused(
    request: Request,
    item: queue.QueueItem,
    chosen: queue.QueueFilter,
    form: dict[str, str],
    action: str,
    exc: ff.FieldError,
) -> Template:
    """A decision's form did not read: the page again (400), the form as typed, and what is
    wrong under that decision's form (``action``: approve, reject, ask)."""
    return await _detail_page(
        request,
        item,
        chosen,
        form=form,
        errors={action: ff.messages(request, exc)},
        status_code=HTTP_400_BAD_REQUEST,
    )


async def _decided(request: Request, receipt_id: int, chosen: queue.QueueFilter) -> Redirect:
    """Someone decided first: say who, and show the receipt as it now is."""
    item = await queue.queue_item(receipt_id)
    who = item.decided_by if item else ""
    if item is not None and item.status in queue.IN_PIPELINE:
        ui.flash(request, STILL_READING, "info")
    elif who:
        ui.flash(request, ALREADY_DECIDED, "warning", who=who)
    else:
        ui.flash(request, ALREADY_DECIDED_PIPELINE, "warning")
    return Redirect(_receipt_url(receipt_id, chosen), status_code=303)


async def _onwards(request: Request, receipt_id: int, chosen: queue.QueueFilter) -> Redirect:
    """After a decision: the next receipt that waits, or the list when none is left."""
    timezone = display_for(request).timezone
    following = await queue.next_to_decide(receipt_id, chosen, timezone=timezone)
    if following is None:
        ui.flash(request, QUEUE_EMPTY, "info")
        return Redirect(_list_url(chosen), status_code=303)
    return Redirect(_receipt_url(following, chosen), status_code=303)


class ReceiptsController(Controller):
    path = "/console/receipts"
    include_in_schema = False
    guards = CASHIER

    @get("/")
    async def list_receipts(
        self,
        request: Request,
        status: FromQuery[str] = "",
        reason: FromQuery[str] = "",
        channel: FromQuery[str] = "",
        member_no: FromQuery[str] = "",
        since: FromQuery[str] = "",
        until: FromQuery[str] = "",
        page: PageNumber = 1,
    ) -> Template:
        """The queue: receipts to review oldest first; the other tabs newest first."""
        chosen = _filter(request)
        display = display_for(request)
        found = await queue.queue_page(
            chosen, limit=PER_PAGE, offset=(page - 1) * PER_PAGE, timezone=display.timezone
        )
        items = list(found.items)
        return Template(
            "console/receipts/list.html",
            context=base_context(
                request,
                items=items,
                labels=_labels(request, items),
                counts=await queue.status_counts(),
                chosen=chosen,
                tabs=queue.STATUS_TABS,
                page=page,
                pages=max(1, -(-found.total // PER_PAGE)),
                total=found.total,
                query=_qs(chosen),
                tab_query={tab: _qs(chosen, status=tab) for tab in queue.STATUS_TABS},
                reason_choices=view.reason_choices(
                    request, [code for item in items for code in item.reasons]
                ),
                channels=sorted(set(view.CHANNEL_LABELS) | set(queue.channels_in(items))),
                STATUS_LABELS_R=view.STATUS_LABELS,
                CHANNEL_LABELS=view.CHANNEL_LABELS,
            ),
            headers={"cache-control": "no-store"},
        )

    @get("/{receipt_id:int}", opt=RECEIPT)
    async def show(
        self,
        request: Request,
        receipt_id: PathId,
        status: FromQuery[str] = "",
        reason: FromQuery[str] = "",
        channel: FromQuery[str] = "",
        member_no: FromQuery[str] = "",
        since: FromQuery[str] = "",
        until: FromQuery[str] = "",
    ) -> Template:
        return await _detail_page(request, await _item_or_404(receipt_id), _filter(request))

    @post("/{receipt_id:int}/approve", opt=RECEIPT, status_code=303)
    async def approve(self, request: Request, receipt_id: PathId) -> Response[Any]:
        """Credit the receipt (the amount and date as read, or as corrected here)."""
        item, chosen, form, check = await _decision_form(request, receipt_id)
        amount = forms.amount(form, item, check)
        day = forms.day(form, check)
        note = forms.note(form, check)
        try:
            check.done()
        except ff.FieldError as exc:
            return await _form_refused(request, item, chosen, form, "approve", exc)
        try:
            out = await review.approve(item.id, by=_by(), amount=amount, on=day, note=note)
        except DomainError as exc:
            return await self._refused(request, item, chosen, form, "approve", exc)
        ui.flash(
            request,
            N_("Approved: %(points)s points for member %(member)s."),
            "success",
            points=display_for(request).points(out.points),
            member=out.member_no or "—",
        )
        return await _onwards(request, item.id, chosen)

    @post("/{receipt_id:int}/reject", opt=RECEIPT, status_code=303)
    async def reject(self, request: Request, receipt_id: PathId) -> Response[Any]:
        """Refuse the receipt with one of the reasons members are told in their language."""
        item, chosen, form, check = await _decision_form(request, receipt_id)
        reason = form.get("reason", "")
        if reason not in dict(_reject_reasons(request)):
            check.add("reason", forms.REASON_REQUIRED)
        note = forms.note(form, check)
        try:
            check.done()
        except ff.FieldError as exc:
            return await _form_refused(request, item, chosen, form, "reject", exc)
        try:
            await review.reject(item.id, by=_by(), reason=reason, note=note)
        except DomainError as exc:
            return await self._refused(request, item, chosen, form, "reject", exc)
        ui.flash(request, N_("Rejected. The member has been told why."), "success")
        return await _onwards(request, item.id, chosen)

    @post("/{receipt_id:int}/ask", opt=RECEIPT, status_code=303)
    async def ask_clearer_photo(self, request: Request, receipt_id: PathId) -> Response[Any]:
        """Ask the member in the chat for a clearer photo of the receipt."""
        item, chosen, form, check = await _decision_form(request, receipt_id)
        try:
            check.done()
        except ff.FieldError as exc:
            return await _form_refused(request, item, chosen, form, "ask", exc)
        try:
            await review.ask_clearer_photo(item.id, by=_by())
        except DomainError as exc:
            return await self._refused(request, item, chosen, form, "ask", exc)
        ui.flash(request, N_("The member has been asked for a clearer photo."), "success")
        return await _onwards(request, item.id, chosen)

    @staticmethod
    async def _refused(
        request: Request,
        item: queue.QueueItem,
        chosen: queue.QueueFilter,
        form: dict[str, str],
        action: str,
        exc: DomainError,
    ) -> Response[Any]:
        if exc.code == "already_decided":
            return await _decided(request, item.id, chosen)
        if isinstance(exc, NotFound):
            raise NotFoundException() from None
        fresh = await queue.queue_item(item.id) or item
        if exc.code in forms.REFUSALS:
            field, text = forms.REFUSALS[exc.code]
            other = (exc.extra or {}).get("receipt_id", "")
            message = i18n.gettext(request, text, other=other)
        else:
            field = str((exc.extra or {}).get("field") or "form")
            message = error_message(request, exc)
        return await _detail_page(
            request,
            fresh,
            chosen,
            form=form,
            errors={action: {field: message}},
            status_code=exc.status if 400 <= exc.status < 500 else HTTP_400_BAD_REQUEST,
        )
