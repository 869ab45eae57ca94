"""Message routes on a store host, mounted under /api/v1/ by config/urls_tenant.py."""

from django.urls import path

from storefront.messages import api

urlpatterns = [
    path("messages", api.StartConversationView.as_view(), name="api-messages"),
    path("messages/threads", api.ThreadListView.as_view(), name="api-message-threads"),
    path("messages/threads/<int:thread_id>", api.ThreadView.as_view(), name="api-message-thread"),
    path("messages/threads/<int:thread_id>/block", api.BlockView.as_view(), name="api-message-block"),
    path(
        "messages/threads/<int:thread_id>/messages/<int:message_id>/image",
        api.MessageImageView.as_view(),
        name="api-message-image",
    ),
]
