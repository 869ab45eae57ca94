"""The dashboard's Messages section: the store's conversations with what is unread first, and one
conversation (opening it reads it) with a reply box taking a photo and the block button. What happens is
storefront.messages.answering's, which the admin's pages use too; forms come back by a 303 with a notice."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from storefront.dashboard.access import member_required
from storefront.dashboard.redirects import see_other
from storefront.messages import answering, selectors
from storefront.messages.models import Thread

PAGE_SIZE = 25


@member_required
def thread_list(request: HttpRequest) -> HttpResponse:
    unread_first = Case(When(seller_unread__gt=0, then=Value(0)), default=Value(1), output_field=IntegerField())
    threads = selectors.threads().order_by(unread_first, "-last_message_at", "-pk")
    page = Paginator(threads, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "dashboard/messages_list.html", {"section": "messages", "page": page})


def _thread(thread_id: int) -> Thread:
    return get_object_or_404(selectors.threads(), pk=thread_id)


def _thread_page(request: HttpRequest, thread: Thread, form: answering.ReplyForm, status: int = 200) -> HttpResponse:
    context = {
        "section": "messages",
        "thread": thread,
        "conversation": answering.open_thread(thread),
        "reply_form": form,
    }
    return render(request, "dashboard/messages_thread.html", context, status=status)


@member_required
def thread_detail(request: HttpRequest, thread_id: int) -> HttpResponse:
    return _thread_page(request, _thread(thread_id), answering.ReplyForm())


@require_POST
@member_required
def thread_reply(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = _thread(thread_id)
    if not answering.reply_from_form(request, thread_id):
        # The page again with what they wrote kept (a photo must be chosen again) and why it was not sent.
        return _thread_page(request, thread, answering.ReplyForm(request.POST), status=400)
    return see_other("dashboard:thread", thread_id=thread_id)


@require_POST
@member_required
def thread_block(request: HttpRequest, thread_id: int) -> HttpResponse:
    answering.block_from_form(request, _thread(thread_id))
    return see_other("dashboard:thread", thread_id=thread_id)
