"""Messages on a store host: a buyer (bearer `lbb_` token) writes to the store and reads their own threads;
the store's members (token or admin session) read every thread, answer, and block a buyer. Nobody else sees
a thread: another buyer's request for it answers 404, as does a thread id of another store."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from storefront.buyers.authentication import BuyerTokenAuthentication, request_buyer
from storefront.messages import selectors, services
from storefront.messages.attachments import image_response
from storefront.messages.models import BODY_MAX, Side, Thread
from tenants.accounts.authentication import BearerTokenAuthentication
from tenants.permissions import IsStoreMember, on_root_host


class IsBuyerHere(permissions.BasePermission):
    message = "Sign in as a buyer (a buyer's bearer token) to write to a store."

    def has_permission(self, request: Any, view: Any) -> bool:
        return request_buyer(request) is not None and not on_root_host()


class IsBuyerOrStoreMember(permissions.BasePermission):
    message = "Only the buyer of a conversation and the store's staff may read it."

    def has_permission(self, request: Any, view: Any) -> bool:
        if on_root_host():
            return False
        return request_buyer(request) is not None or IsStoreMember().has_permission(request, view)


class MessageInSerializer(serializers.Serializer):
    body = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=BODY_MAX)
    image = serializers.FileField(required=False, allow_empty_file=True)


class FirstMessageInSerializer(MessageInSerializer):
    product = serializers.IntegerField(required=False, min_value=1)
    order = serializers.IntegerField(required=False, min_value=1)


class BlockedSerializer(serializers.Serializer):
    thread = serializers.IntegerField()
    blocked = serializers.BooleanField()


class ThreadSerializer(serializers.Serializer):
    """The shape of a thread (for the schema)."""

    id = serializers.IntegerField()
    subject = serializers.CharField()
    product = serializers.IntegerField(allow_null=True)
    order = serializers.IntegerField(allow_null=True)
    unread = serializers.IntegerField()
    messages = serializers.ListField(child=serializers.DictField())


def _writer(request: Request) -> services.Writer:
    buyer = request_buyer(request)
    if buyer is not None:
        return services.Writer(side=Side.BUYER, id=buyer.id, name=buyer.name, email=buyer.email)
    user = request.user
    return services.Writer(side=Side.SELLER, id=user.pk, name=user.get_full_name() or user.email, email=user.email)


def _upload(data: dict[str, Any]) -> services.Upload | None:
    image = data.get("image")
    return services.Upload(stream=image, size=image.size or 0) if image is not None else None


def _refusal(error: Exception) -> Response:
    if isinstance(error, services.BuyerBlocked):
        body = {"code": "blocked", "detail": "This store does not accept your messages."}
        return Response(body, status=status.HTTP_403_FORBIDDEN)
    if isinstance(error, services.TooManyMessages):
        body = {"code": "too_many_messages", "detail": str(error)}
        return Response(body, status=429, headers={"Retry-After": str(error.retry_after)})
    if isinstance(error, services.MessageRefused):
        raise ValidationError(error.errors) from error
    raise NotFound(str(error)) from error


class ConversationView(APIView):
    authentication_classes = [BuyerTokenAuthentication, BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [IsBuyerOrStoreMember]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def side(self) -> str:
        return Side.BUYER if request_buyer(self.request) is not None else Side.SELLER

    def visible_threads(self) -> Any:
        buyer = request_buyer(self.request)
        return selectors.threads(buyer_id=buyer.id if buyer is not None else None)

    def thread(self, thread_id: int) -> Thread:
        thread = self.visible_threads().filter(pk=thread_id).first()
        if thread is None:
            raise NotFound("No such conversation.")
        return thread


class StartConversationView(ConversationView):
    permission_classes = [IsBuyerHere]

    @extend_schema(request=FirstMessageInSerializer, responses={201: ThreadSerializer})
    def post(self, request: Request) -> Response:
        data = FirstMessageInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        try:
            thread = services.write_to_store(
                _writer(request),
                given.get("body", ""),
                product_id=given.get("product"),
                order_id=given.get("order"),
                upload=_upload(given),
            )
        except (services.BuyerBlocked, services.TooManyMessages, services.MessageRefused) as error:
            return _refusal(error)
        return Response(selectors.thread_body(thread, Side.BUYER), status=status.HTTP_201_CREATED)


class ThreadListView(ConversationView, GenericAPIView):
    @extend_schema(responses=ThreadSerializer(many=True))
    def get(self, request: Request) -> Response:
        side = self.side()
        buyer = request_buyer(request)
        page = self.paginate_queryset(self.visible_threads())
        response = self.get_paginated_response([selectors.thread_summary(thread, side) for thread in page or []])
        response.data["unread"] = selectors.unread_total(side, buyer_id=buyer.id if buyer else None)
        return response


class ThreadView(ConversationView):
    @extend_schema(responses=ThreadSerializer)
    def get(self, request: Request, thread_id: int) -> Response:
        thread = self.thread(thread_id)
        services.mark_read(thread, self.side())
        return Response(selectors.thread_body(thread, self.side()))

    @extend_schema(request=MessageInSerializer, responses={201: ThreadSerializer})
    def post(self, request: Request, thread_id: int) -> Response:
        data = MessageInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        self.thread(thread_id)  # 404 before anything is checked or stored
        try:
            thread = services.reply(
                thread_id, _writer(request), data.validated_data.get("body", ""), upload=_upload(data.validated_data)
            )
        except (services.BuyerBlocked, services.TooManyMessages, services.MessageRefused, services.NotFound) as error:
            return _refusal(error)
        return Response(selectors.thread_body(thread, self.side()), status=status.HTTP_201_CREATED)


class BlockView(ConversationView):
    """The store stops hearing from the thread's buyer (POST), or hears from them again (DELETE)."""

    permission_classes = [IsStoreMember]

    @extend_schema(request=None, responses=BlockedSerializer)
    def post(self, request: Request, thread_id: int) -> Response:
        thread = self.thread(thread_id)
        services.block_buyer(thread.buyer_id, by=f"staff:{request.user.email}")
        return Response({"thread": thread.pk, "blocked": True})

    @extend_schema(request=None, responses=BlockedSerializer)
    def delete(self, request: Request, thread_id: int) -> Response:
        thread = self.thread(thread_id)
        services.unblock_buyer(thread.buyer_id)
        return Response({"thread": thread.pk, "blocked": False})


class MessageImageView(ConversationView):
    @extend_schema(responses={(200, "image/*"): bytes})
    def get(self, request: Request, thread_id: int, message_id: int) -> FileResponse:
        thread = self.thread(thread_id)
        message = thread.messages.filter(pk=message_id).exclude(image="").first()
        if message is None:
            raise NotFound("No such picture.")
        return image_response(message.image, message.image_type)
