"""A signed-in buyer's conversations with the store, on its host: write from a product or an order page,
the list of their threads with what is unread, one thread with its reply box. The buyer is the one signed
in on this host's session, checked again against the control plane (a closed account writes nothing)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_POST

from storefront.messages import selectors, services
from storefront.messages.attachments import image_response
from storefront.messages.models import BODY_MAX, Side, Thread
from storefront.orders.templatetags.cart import sign_in_url
from storefront.shop import guest_cart
from storefront.shop.cart_views import SeeOther


class MessageForm(forms.Form):
    body = forms.CharField(max_length=BODY_MAX, required=False, widget=forms.Textarea(attrs={"rows": 4}))
    image = forms.FileField(required=False, label="Add a photo (optional)")
    product = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    order = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


def _buyer(request: HttpRequest) -> services.Writer | None:
    buyer = guest_cart.still_signed_in(request)
    if buyer is None:
        return None
    return services.Writer(side=Side.BUYER, id=buyer.id, name=buyer.name, email=buyer.email)


def _sign_in_first(request: HttpRequest, back: str = "") -> HttpResponse:
    messages.info(request, "Sign in to message the store.")
    return HttpResponseRedirect(sign_in_url(request, back or request.get_full_path()))


def _own_thread(buyer: services.Writer, thread_id: int) -> Thread:
    thread = selectors.threads(buyer_id=buyer.id).filter(pk=thread_id).first()
    if thread is None:
        raise Http404("No such conversation.")
    return thread


def _upload(form: MessageForm) -> services.Upload | None:
    image = form.cleaned_data.get("image")
    return services.Upload(stream=image, size=image.size or 0) if image else None


def _refusal_words(error: Exception) -> str:
    if isinstance(error, services.BuyerBlocked):
        return "This store does not accept your messages."
    return str(error)


@require_POST
def start_thread(request: HttpRequest) -> HttpResponse:
    product = request.POST.get("product", "")
    back = f"/products/{int(product)}/#message-seller" if product.isdigit() else "/messages/"
    buyer = _buyer(request)
    if buyer is None:
        return _sign_in_first(request, back.split("#")[0])
    form = MessageForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Not sent: " + "; ".join(str(m) for field in form.errors.values() for m in field))
        return SeeOther(back)
    try:
        thread = services.write_to_store(
            buyer,
            form.cleaned_data["body"],
            product_id=form.cleaned_data.get("product"),
            order_id=form.cleaned_data.get("order"),
            upload=_upload(form),
        )
    except (services.MessageRefused, services.BuyerBlocked, services.TooManyMessages) as error:
        messages.error(request, f"Not sent: {_refusal_words(error)}")
        return SeeOther(back)
    messages.success(request, "Sent: the store will answer here, and we'll email you when it does.")
    return SeeOther(f"/messages/{thread.pk}/")


def thread_list(request: HttpRequest) -> HttpResponse:
    buyer = _buyer(request)
    if buyer is None:
        return _sign_in_first(request)
    threads = list(selectors.threads(buyer_id=buyer.id)[:100])
    context: dict[str, Any] = {"store": request.tenant, "threads": threads}  # type: ignore[attr-defined]
    return render(request, "shop/messages.html", context)


def thread_page(request: HttpRequest, thread_id: int) -> HttpResponse:
    buyer = _buyer(request)
    if buyer is None:
        return _sign_in_first(request)
    thread = _own_thread(buyer, thread_id)
    if request.method == "POST":
        form = MessageForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.reply(thread.pk, buyer, form.cleaned_data["body"], upload=_upload(form))
            except (services.MessageRefused, services.BuyerBlocked, services.TooManyMessages) as error:
                messages.error(request, f"Not sent: {_refusal_words(error)}")
            else:
                return SeeOther(f"/messages/{thread.pk}/")
        else:
            messages.error(request, "Not sent: " + "; ".join(str(m) for f in form.errors.values() for m in f))
    services.mark_read(thread, Side.BUYER)
    context = {
        "store": request.tenant,  # type: ignore[attr-defined]
        "thread": thread,
        "conversation": selectors.thread_body(thread, Side.BUYER),
        "form": MessageForm(),
    }
    return render(request, "shop/message_thread.html", context)


def thread_image(request: HttpRequest, thread_id: int, message_id: int) -> FileResponse:
    buyer = _buyer(request)
    if buyer is None:
        raise Http404("No such picture.")
    message = _own_thread(buyer, thread_id).messages.filter(pk=message_id).exclude(image="").first()
    if message is None:
        raise Http404("No such picture.")
    return image_response(message.image, message.image_type)
