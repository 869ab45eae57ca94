"""A store member answering buyers from a page (the store's admin and the merchant dashboard): opening a
conversation reads it, a reply (text and a photo) is sent as the signed-in member, and the buyer is blocked
or let back in; each outcome is told back as a notice. Every write is storefront.messages.services'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest

from storefront.messages import selectors, services
from storefront.messages.models import BODY_MAX, Side, Thread


class ReplyForm(forms.Form):
    body = forms.CharField(max_length=BODY_MAX, required=False, widget=forms.Textarea(attrs={"rows": 4}))
    image = forms.FileField(required=False, label="Photo (JPEG, PNG or WebP)")


def open_thread(thread: Thread) -> dict[str, Any]:
    """The conversation as the store sees it, now read by the store."""
    services.mark_read(thread, Side.SELLER)
    return selectors.thread_body(thread, Side.SELLER)


def member_writer(user: Any) -> services.Writer:
    return services.Writer(side=Side.SELLER, id=int(user.pk), name=user.get_full_name() or user.email)


def reply_from_form(request: HttpRequest, thread_id: int) -> bool:
    """The posted reply sent as the signed-in member; False (and why, as a notice) when it was not."""
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        problems = "; ".join(str(m) for field in form.errors.values() for m in field)
        messages.error(request, f"Not sent: {problems}")
        return False
    image = form.cleaned_data["image"]
    upload = services.Upload(stream=image, size=image.size or 0) if image else None
    try:
        services.reply(thread_id, member_writer(request.user), form.cleaned_data["body"], upload=upload)
    except services.MessageRefused as error:
        messages.error(request, f"Not sent: {error}")
        return False
    except services.NotFound as error:
        raise Http404(str(error)) from error
    messages.success(request, "Sent.")
    return True


def block_from_form(request: HttpRequest, thread: Thread) -> None:
    """`block=1` stops the thread's buyer messaging the store; anything else lets them write again."""
    who = thread.buyer_name or "This buyer"
    if request.POST.get("block") == "1":
        services.block_buyer(thread.buyer_id, by=f"staff:{request.user.email}")  # type: ignore[union-attr]
        messages.success(request, f"{who} can no longer message the store.")
    else:
        services.unblock_buyer(thread.buyer_id)
        messages.success(request, f"{who} can message the store again.")
