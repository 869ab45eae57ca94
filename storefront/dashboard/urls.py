"""The merchant dashboard on a store's host, mounted at /dashboard/ by config/urls_tenant.py."""

from django.urls import include, path

from storefront.dashboard import conversations, home, orders, payouts, product_urls, story, team, tokens

app_name = "dashboard"

urlpatterns = [
    path("", home.home, name="home"),
    path("products/", include(product_urls)),
    path("orders/", orders.order_list, name="orders"),
    path("orders/<int:order_id>/", orders.order_detail, name="order"),
    path("orders/<int:order_id>/move/", orders.order_move, name="order-move"),
    path("messages/", conversations.thread_list, name="messages"),
    path("messages/<int:thread_id>/", conversations.thread_detail, name="thread"),
    path("messages/<int:thread_id>/reply/", conversations.thread_reply, name="thread-reply"),
    path("messages/<int:thread_id>/block/", conversations.thread_block, name="thread-block"),
    path("story/", story.story_page, name="story"),
    path("brand.css", story.brand_stylesheet, name="brand-css"),
    path("payouts/", payouts.payouts_page, name="payouts"),
    path("payouts/connect", payouts.connect, name="payouts-connect"),
    path("team/", team.team, name="team"),
    path("team/invite/", team.invite, name="team-invite"),
    path("team/invitations/<int:invitation_id>/revoke/", team.revoke_invitation, name="team-revoke-invitation"),
    path("team/members/<int:user_id>/remove/", team.remove_member, name="team-remove-member"),
    path("join/<str:token>/", team.join, name="join"),
    path("tokens/", tokens.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", tokens.revoke, name="tokens-revoke"),
]
