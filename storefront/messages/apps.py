from django.apps import AppConfig


class MessagesConfig(AppConfig):
    name = "storefront.messages"
    # Django's own messages framework already has the label "messages".
    label = "store_messages"
    verbose_name = "Messages"
