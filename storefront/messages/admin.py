"""Messages in the store's admin: the threads with what is unread first, and each thread's page with the
conversation, a reply box (text and a photo) and the block button. Reading a thread marks it read; every
write is storefront.messages.services'. Every member of the store answers, as with orders."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from storefront.messages import answering
from storefront.messages.models import Thread
from storefront.orders.admin import ReadByMembers, is_member


@admin.register(Thread)
class ThreadAdmin(ReadByMembers, admin.ModelAdmin):
    list_display = ["subject", "buyer_name", "shown_unread", "last_message_at"]
    search_fields = ["subject", "buyer_name"]
    list_per_page = 50
    show_full_result_count = False
    ordering = ["-seller_unread", "-last_message_at"]
    fields = readonly_fields = ("subject", "buyer_name", "product", "order", "created_at", "last_message_at")
    change_form_template = "messages/admin/thread_change_form.html"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_member(request)

    @admin.display(description="unread", ordering="seller_unread")
    def shown_unread(self, thread: Thread) -> str:
        return format_html("<strong>{}</strong>", thread.seller_unread) if thread.seller_unread else "-"

    def get_urls(self) -> list[URLPattern]:
        reply = self.admin_site.admin_view(require_POST(self.reply_view))
        block = self.admin_site.admin_view(require_POST(self.block_view))
        return [
            path("<int:thread_id>/reply/", reply, name="store_messages_thread_reply"),
            path("<int:thread_id>/block/", block, name="store_messages_thread_block"),
            *super().get_urls(),
        ]

    def _thread(self, request: HttpRequest, thread_id: int) -> Thread:
        if not is_member(request):
            raise PermissionDenied
        thread = Thread.objects.filter(pk=thread_id).first()
        if thread is None:
            raise Http404("No such conversation.")
        return thread

    def _back(self, thread_id: int) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:store_messages_thread_change", args=[thread_id]))

    def reply_view(self, request: HttpRequest, thread_id: int) -> HttpResponse:
        self._thread(request, thread_id)
        answering.reply_from_form(request, thread_id)
        return self._back(thread_id)

    def block_view(self, request: HttpRequest, thread_id: int) -> HttpResponse:
        answering.block_from_form(request, self._thread(request, thread_id))
        return self._back(thread_id)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        thread = Thread.objects.filter(pk=int(object_id)).first() if object_id.isdigit() else None
        extra = {**(extra_context or {})}
        if thread is not None and is_member(request):
            extra["conversation"] = answering.open_thread(thread)
            extra["reply_form"] = answering.ReplyForm()
        return super().change_view(request, object_id, form_url, extra)
