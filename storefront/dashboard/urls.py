"""The merchant dashboard on a store's host, mounted at /dashboard/ by config/urls_tenant.py."""

from django.urls import include, path

from storefront.dashboard import home, payouts, product_urls, story, team, tokens

app_name = "dashboard"

urlpatterns = [
    path("", home.home, name="home"),
    path("products/", include(product_urls)),
    path("story/", story.story_page, name="story"),
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
