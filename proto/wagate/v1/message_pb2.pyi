import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Direction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DIRECTION_UNSPECIFIED: _ClassVar[Direction]
    DIRECTION_INBOUND: _ClassVar[Direction]
    DIRECTION_OUTBOUND: _ClassVar[Direction]

class MessageStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MESSAGE_STATUS_UNSPECIFIED: _ClassVar[MessageStatus]
    MESSAGE_STATUS_PENDING: _ClassVar[MessageStatus]
    MESSAGE_STATUS_SENT: _ClassVar[MessageStatus]
    MESSAGE_STATUS_DELIVERED: _ClassVar[MessageStatus]
    MESSAGE_STATUS_READ: _ClassVar[MessageStatus]
    MESSAGE_STATUS_PLAYED: _ClassVar[MessageStatus]
    MESSAGE_STATUS_FAILED: _ClassVar[MessageStatus]
    MESSAGE_STATUS_RECEIVED: _ClassVar[MessageStatus]
DIRECTION_UNSPECIFIED: Direction
DIRECTION_INBOUND: Direction
DIRECTION_OUTBOUND: Direction
MESSAGE_STATUS_UNSPECIFIED: MessageStatus
MESSAGE_STATUS_PENDING: MessageStatus
MESSAGE_STATUS_SENT: MessageStatus
MESSAGE_STATUS_DELIVERED: MessageStatus
MESSAGE_STATUS_READ: MessageStatus
MESSAGE_STATUS_PLAYED: MessageStatus
MESSAGE_STATUS_FAILED: MessageStatus
MESSAGE_STATUS_RECEIVED: MessageStatus

class Contact(_message.Message):
    __slots__ = ("wa_id", "user_id", "name", "username", "country_code", "marketing_messages", "marketing_messages_updated_at")
    WA_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    MARKETING_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    MARKETING_MESSAGES_UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    wa_id: str
    user_id: str
    name: str
    username: str
    country_code: str
    marketing_messages: str
    marketing_messages_updated_at: _timestamp_pb2.Timestamp
    def __init__(self, wa_id: _Optional[str] = ..., user_id: _Optional[str] = ..., name: _Optional[str] = ..., username: _Optional[str] = ..., country_code: _Optional[str] = ..., marketing_messages: _Optional[str] = ..., marketing_messages_updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Referral(_message.Message):
    __slots__ = ("source_url", "source_id", "source_type", "body", "headline", "media_type", "image_url", "video_url", "thumbnail_url", "ctwa_clid", "welcome_message_text")
    SOURCE_URL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    HEADLINE_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    VIDEO_URL_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_URL_FIELD_NUMBER: _ClassVar[int]
    CTWA_CLID_FIELD_NUMBER: _ClassVar[int]
    WELCOME_MESSAGE_TEXT_FIELD_NUMBER: _ClassVar[int]
    source_url: str
    source_id: str
    source_type: str
    body: str
    headline: str
    media_type: str
    image_url: str
    video_url: str
    thumbnail_url: str
    ctwa_clid: str
    welcome_message_text: str
    def __init__(self, source_url: _Optional[str] = ..., source_id: _Optional[str] = ..., source_type: _Optional[str] = ..., body: _Optional[str] = ..., headline: _Optional[str] = ..., media_type: _Optional[str] = ..., image_url: _Optional[str] = ..., video_url: _Optional[str] = ..., thumbnail_url: _Optional[str] = ..., ctwa_clid: _Optional[str] = ..., welcome_message_text: _Optional[str] = ...) -> None: ...

class ReferredProduct(_message.Message):
    __slots__ = ("catalog_id", "product_retailer_id")
    CATALOG_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_RETAILER_ID_FIELD_NUMBER: _ClassVar[int]
    catalog_id: str
    product_retailer_id: str
    def __init__(self, catalog_id: _Optional[str] = ..., product_retailer_id: _Optional[str] = ...) -> None: ...

class Context(_message.Message):
    __slots__ = ("reply_to_id", "reply_to_from", "forwarded", "frequently_forwarded", "referral", "referred_product")
    REPLY_TO_ID_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_FROM_FIELD_NUMBER: _ClassVar[int]
    FORWARDED_FIELD_NUMBER: _ClassVar[int]
    FREQUENTLY_FORWARDED_FIELD_NUMBER: _ClassVar[int]
    REFERRAL_FIELD_NUMBER: _ClassVar[int]
    REFERRED_PRODUCT_FIELD_NUMBER: _ClassVar[int]
    reply_to_id: str
    reply_to_from: str
    forwarded: bool
    frequently_forwarded: bool
    referral: Referral
    referred_product: ReferredProduct
    def __init__(self, reply_to_id: _Optional[str] = ..., reply_to_from: _Optional[str] = ..., forwarded: _Optional[bool] = ..., frequently_forwarded: _Optional[bool] = ..., referral: _Optional[_Union[Referral, _Mapping]] = ..., referred_product: _Optional[_Union[ReferredProduct, _Mapping]] = ...) -> None: ...

class ProviderError(_message.Message):
    __slots__ = ("code", "title", "message", "details", "href")
    CODE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    HREF_FIELD_NUMBER: _ClassVar[int]
    code: int
    title: str
    message: str
    details: str
    href: str
    def __init__(self, code: _Optional[int] = ..., title: _Optional[str] = ..., message: _Optional[str] = ..., details: _Optional[str] = ..., href: _Optional[str] = ...) -> None: ...

class TextContent(_message.Message):
    __slots__ = ("body", "preview_url")
    BODY_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_URL_FIELD_NUMBER: _ClassVar[int]
    body: str
    preview_url: bool
    def __init__(self, body: _Optional[str] = ..., preview_url: _Optional[bool] = ...) -> None: ...

class MediaContent(_message.Message):
    __slots__ = ("id", "link", "mime_type", "sha256", "caption", "filename", "voice", "animated", "url")
    ID_FIELD_NUMBER: _ClassVar[int]
    LINK_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    CAPTION_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    VOICE_FIELD_NUMBER: _ClassVar[int]
    ANIMATED_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    id: str
    link: str
    mime_type: str
    sha256: str
    caption: str
    filename: str
    voice: bool
    animated: bool
    url: str
    def __init__(self, id: _Optional[str] = ..., link: _Optional[str] = ..., mime_type: _Optional[str] = ..., sha256: _Optional[str] = ..., caption: _Optional[str] = ..., filename: _Optional[str] = ..., voice: _Optional[bool] = ..., animated: _Optional[bool] = ..., url: _Optional[str] = ...) -> None: ...

class LocationContent(_message.Message):
    __slots__ = ("latitude", "longitude", "name", "address", "url")
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    latitude: float
    longitude: float
    name: str
    address: str
    url: str
    def __init__(self, latitude: _Optional[float] = ..., longitude: _Optional[float] = ..., name: _Optional[str] = ..., address: _Optional[str] = ..., url: _Optional[str] = ...) -> None: ...

class SharedContactName(_message.Message):
    __slots__ = ("formatted_name", "first_name", "last_name", "middle_name", "suffix", "prefix")
    FORMATTED_NAME_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    MIDDLE_NAME_FIELD_NUMBER: _ClassVar[int]
    SUFFIX_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    formatted_name: str
    first_name: str
    last_name: str
    middle_name: str
    suffix: str
    prefix: str
    def __init__(self, formatted_name: _Optional[str] = ..., first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., middle_name: _Optional[str] = ..., suffix: _Optional[str] = ..., prefix: _Optional[str] = ...) -> None: ...

class SharedContactPhone(_message.Message):
    __slots__ = ("phone", "wa_id", "type")
    PHONE_FIELD_NUMBER: _ClassVar[int]
    WA_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    phone: str
    wa_id: str
    type: str
    def __init__(self, phone: _Optional[str] = ..., wa_id: _Optional[str] = ..., type: _Optional[str] = ...) -> None: ...

class SharedContactEmail(_message.Message):
    __slots__ = ("email", "type")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    email: str
    type: str
    def __init__(self, email: _Optional[str] = ..., type: _Optional[str] = ...) -> None: ...

class SharedContactAddress(_message.Message):
    __slots__ = ("street", "city", "state", "zip", "country", "country_code", "type")
    STREET_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ZIP_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    street: str
    city: str
    state: str
    zip: str
    country: str
    country_code: str
    type: str
    def __init__(self, street: _Optional[str] = ..., city: _Optional[str] = ..., state: _Optional[str] = ..., zip: _Optional[str] = ..., country: _Optional[str] = ..., country_code: _Optional[str] = ..., type: _Optional[str] = ...) -> None: ...

class SharedContactOrg(_message.Message):
    __slots__ = ("company", "department", "title")
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    company: str
    department: str
    title: str
    def __init__(self, company: _Optional[str] = ..., department: _Optional[str] = ..., title: _Optional[str] = ...) -> None: ...

class SharedContactUrl(_message.Message):
    __slots__ = ("url", "type")
    URL_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    url: str
    type: str
    def __init__(self, url: _Optional[str] = ..., type: _Optional[str] = ...) -> None: ...

class SharedContact(_message.Message):
    __slots__ = ("name", "phones", "emails", "addresses", "org", "urls", "birthday")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PHONES_FIELD_NUMBER: _ClassVar[int]
    EMAILS_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    URLS_FIELD_NUMBER: _ClassVar[int]
    BIRTHDAY_FIELD_NUMBER: _ClassVar[int]
    name: SharedContactName
    phones: _containers.RepeatedCompositeFieldContainer[SharedContactPhone]
    emails: _containers.RepeatedCompositeFieldContainer[SharedContactEmail]
    addresses: _containers.RepeatedCompositeFieldContainer[SharedContactAddress]
    org: SharedContactOrg
    urls: _containers.RepeatedCompositeFieldContainer[SharedContactUrl]
    birthday: str
    def __init__(self, name: _Optional[_Union[SharedContactName, _Mapping]] = ..., phones: _Optional[_Iterable[_Union[SharedContactPhone, _Mapping]]] = ..., emails: _Optional[_Iterable[_Union[SharedContactEmail, _Mapping]]] = ..., addresses: _Optional[_Iterable[_Union[SharedContactAddress, _Mapping]]] = ..., org: _Optional[_Union[SharedContactOrg, _Mapping]] = ..., urls: _Optional[_Iterable[_Union[SharedContactUrl, _Mapping]]] = ..., birthday: _Optional[str] = ...) -> None: ...

class ContactsContent(_message.Message):
    __slots__ = ("contacts",)
    CONTACTS_FIELD_NUMBER: _ClassVar[int]
    contacts: _containers.RepeatedCompositeFieldContainer[SharedContact]
    def __init__(self, contacts: _Optional[_Iterable[_Union[SharedContact, _Mapping]]] = ...) -> None: ...

class ReplyButton(_message.Message):
    __slots__ = ("id", "title")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ...) -> None: ...

class ListRow(_message.Message):
    __slots__ = ("id", "title", "description")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    description: str
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class ListSection(_message.Message):
    __slots__ = ("title", "rows")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    title: str
    rows: _containers.RepeatedCompositeFieldContainer[ListRow]
    def __init__(self, title: _Optional[str] = ..., rows: _Optional[_Iterable[_Union[ListRow, _Mapping]]] = ...) -> None: ...

class ButtonsAction(_message.Message):
    __slots__ = ("buttons",)
    BUTTONS_FIELD_NUMBER: _ClassVar[int]
    buttons: _containers.RepeatedCompositeFieldContainer[ReplyButton]
    def __init__(self, buttons: _Optional[_Iterable[_Union[ReplyButton, _Mapping]]] = ...) -> None: ...

class ListAction(_message.Message):
    __slots__ = ("button", "sections")
    BUTTON_FIELD_NUMBER: _ClassVar[int]
    SECTIONS_FIELD_NUMBER: _ClassVar[int]
    button: str
    sections: _containers.RepeatedCompositeFieldContainer[ListSection]
    def __init__(self, button: _Optional[str] = ..., sections: _Optional[_Iterable[_Union[ListSection, _Mapping]]] = ...) -> None: ...

class InteractiveHeader(_message.Message):
    __slots__ = ("text", "image", "video", "document")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    VIDEO_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    text: str
    image: MediaContent
    video: MediaContent
    document: MediaContent
    def __init__(self, text: _Optional[str] = ..., image: _Optional[_Union[MediaContent, _Mapping]] = ..., video: _Optional[_Union[MediaContent, _Mapping]] = ..., document: _Optional[_Union[MediaContent, _Mapping]] = ...) -> None: ...

class InteractiveContent(_message.Message):
    __slots__ = ("header", "body", "footer", "buttons", "list")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    FOOTER_FIELD_NUMBER: _ClassVar[int]
    BUTTONS_FIELD_NUMBER: _ClassVar[int]
    LIST_FIELD_NUMBER: _ClassVar[int]
    header: InteractiveHeader
    body: str
    footer: str
    buttons: ButtonsAction
    list: ListAction
    def __init__(self, header: _Optional[_Union[InteractiveHeader, _Mapping]] = ..., body: _Optional[str] = ..., footer: _Optional[str] = ..., buttons: _Optional[_Union[ButtonsAction, _Mapping]] = ..., list: _Optional[_Union[ListAction, _Mapping]] = ...) -> None: ...

class TemplateParameter(_message.Message):
    __slots__ = ("type", "text", "parameter_name", "payload", "media")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_NAME_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    MEDIA_FIELD_NUMBER: _ClassVar[int]
    type: str
    text: str
    parameter_name: str
    payload: str
    media: MediaContent
    def __init__(self, type: _Optional[str] = ..., text: _Optional[str] = ..., parameter_name: _Optional[str] = ..., payload: _Optional[str] = ..., media: _Optional[_Union[MediaContent, _Mapping]] = ...) -> None: ...

class TemplateComponent(_message.Message):
    __slots__ = ("type", "sub_type", "index", "parameters")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SUB_TYPE_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    type: str
    sub_type: str
    index: int
    parameters: _containers.RepeatedCompositeFieldContainer[TemplateParameter]
    def __init__(self, type: _Optional[str] = ..., sub_type: _Optional[str] = ..., index: _Optional[int] = ..., parameters: _Optional[_Iterable[_Union[TemplateParameter, _Mapping]]] = ...) -> None: ...

class TemplateContent(_message.Message):
    __slots__ = ("name", "language_code", "components", "category")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_CODE_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    name: str
    language_code: str
    components: _containers.RepeatedCompositeFieldContainer[TemplateComponent]
    category: str
    def __init__(self, name: _Optional[str] = ..., language_code: _Optional[str] = ..., components: _Optional[_Iterable[_Union[TemplateComponent, _Mapping]]] = ..., category: _Optional[str] = ...) -> None: ...

class ReactionContent(_message.Message):
    __slots__ = ("message_id", "emoji")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    EMOJI_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    emoji: str
    def __init__(self, message_id: _Optional[str] = ..., emoji: _Optional[str] = ...) -> None: ...

class ButtonReplyContent(_message.Message):
    __slots__ = ("id", "title")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ...) -> None: ...

class ListReplyContent(_message.Message):
    __slots__ = ("id", "title", "description")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    description: str
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class FlowReplyContent(_message.Message):
    __slots__ = ("name", "body", "response_json")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_JSON_FIELD_NUMBER: _ClassVar[int]
    name: str
    body: str
    response_json: str
    def __init__(self, name: _Optional[str] = ..., body: _Optional[str] = ..., response_json: _Optional[str] = ...) -> None: ...

class TemplateButtonReplyContent(_message.Message):
    __slots__ = ("payload", "text")
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    payload: str
    text: str
    def __init__(self, payload: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class ProductItem(_message.Message):
    __slots__ = ("product_retailer_id", "quantity", "item_price", "currency")
    PRODUCT_RETAILER_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    ITEM_PRICE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    product_retailer_id: str
    quantity: int
    item_price: float
    currency: str
    def __init__(self, product_retailer_id: _Optional[str] = ..., quantity: _Optional[int] = ..., item_price: _Optional[float] = ..., currency: _Optional[str] = ...) -> None: ...

class OrderContent(_message.Message):
    __slots__ = ("catalog_id", "text", "product_items")
    CATALOG_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ITEMS_FIELD_NUMBER: _ClassVar[int]
    catalog_id: str
    text: str
    product_items: _containers.RepeatedCompositeFieldContainer[ProductItem]
    def __init__(self, catalog_id: _Optional[str] = ..., text: _Optional[str] = ..., product_items: _Optional[_Iterable[_Union[ProductItem, _Mapping]]] = ...) -> None: ...

class SystemContent(_message.Message):
    __slots__ = ("type", "body", "wa_id", "user_id")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    WA_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    type: str
    body: str
    wa_id: str
    user_id: str
    def __init__(self, type: _Optional[str] = ..., body: _Optional[str] = ..., wa_id: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class UnsupportedContent(_message.Message):
    __slots__ = ("type",)
    TYPE_FIELD_NUMBER: _ClassVar[int]
    type: str
    def __init__(self, type: _Optional[str] = ...) -> None: ...

class FallbackOption(_message.Message):
    __slots__ = ("id", "title", "description")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    description: str
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class FallbackMenu(_message.Message):
    __slots__ = ("is_list", "options")
    IS_LIST_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    is_list: bool
    options: _containers.RepeatedCompositeFieldContainer[FallbackOption]
    def __init__(self, is_list: _Optional[bool] = ..., options: _Optional[_Iterable[_Union[FallbackOption, _Mapping]]] = ...) -> None: ...

class Message(_message.Message):
    __slots__ = ("id", "tenant_id", "channel_id", "provider", "provider_message_id", "conversation_id", "contact", "direction", "status", "timestamp", "context", "errors", "group_id", "author", "idempotency_key", "created_at", "updated_at", "fallback_menu", "edited_at", "deleted_at", "revisions", "pricing", "text", "image", "audio", "video", "document", "sticker", "location", "contacts", "interactive", "template", "reaction", "button_reply", "list_reply", "flow_reply", "template_button_reply", "order", "system", "unsupported")
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_MENU_FIELD_NUMBER: _ClassVar[int]
    EDITED_AT_FIELD_NUMBER: _ClassVar[int]
    DELETED_AT_FIELD_NUMBER: _ClassVar[int]
    REVISIONS_FIELD_NUMBER: _ClassVar[int]
    PRICING_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    VIDEO_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    STICKER_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    CONTACTS_FIELD_NUMBER: _ClassVar[int]
    INTERACTIVE_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    REACTION_FIELD_NUMBER: _ClassVar[int]
    BUTTON_REPLY_FIELD_NUMBER: _ClassVar[int]
    LIST_REPLY_FIELD_NUMBER: _ClassVar[int]
    FLOW_REPLY_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_BUTTON_REPLY_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_FIELD_NUMBER: _ClassVar[int]
    UNSUPPORTED_FIELD_NUMBER: _ClassVar[int]
    id: str
    tenant_id: str
    channel_id: str
    provider: str
    provider_message_id: str
    conversation_id: str
    contact: Contact
    direction: Direction
    status: MessageStatus
    timestamp: _timestamp_pb2.Timestamp
    context: Context
    errors: _containers.RepeatedCompositeFieldContainer[ProviderError]
    group_id: str
    author: str
    idempotency_key: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    fallback_menu: FallbackMenu
    edited_at: _timestamp_pb2.Timestamp
    deleted_at: _timestamp_pb2.Timestamp
    revisions: _containers.RepeatedCompositeFieldContainer[MessageRevision]
    pricing: Pricing
    text: TextContent
    image: MediaContent
    audio: MediaContent
    video: MediaContent
    document: MediaContent
    sticker: MediaContent
    location: LocationContent
    contacts: ContactsContent
    interactive: InteractiveContent
    template: TemplateContent
    reaction: ReactionContent
    button_reply: ButtonReplyContent
    list_reply: ListReplyContent
    flow_reply: FlowReplyContent
    template_button_reply: TemplateButtonReplyContent
    order: OrderContent
    system: SystemContent
    unsupported: UnsupportedContent
    def __init__(self, id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., channel_id: _Optional[str] = ..., provider: _Optional[str] = ..., provider_message_id: _Optional[str] = ..., conversation_id: _Optional[str] = ..., contact: _Optional[_Union[Contact, _Mapping]] = ..., direction: _Optional[_Union[Direction, str]] = ..., status: _Optional[_Union[MessageStatus, str]] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., context: _Optional[_Union[Context, _Mapping]] = ..., errors: _Optional[_Iterable[_Union[ProviderError, _Mapping]]] = ..., group_id: _Optional[str] = ..., author: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., fallback_menu: _Optional[_Union[FallbackMenu, _Mapping]] = ..., edited_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deleted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revisions: _Optional[_Iterable[_Union[MessageRevision, _Mapping]]] = ..., pricing: _Optional[_Union[Pricing, _Mapping]] = ..., text: _Optional[_Union[TextContent, _Mapping]] = ..., image: _Optional[_Union[MediaContent, _Mapping]] = ..., audio: _Optional[_Union[MediaContent, _Mapping]] = ..., video: _Optional[_Union[MediaContent, _Mapping]] = ..., document: _Optional[_Union[MediaContent, _Mapping]] = ..., sticker: _Optional[_Union[MediaContent, _Mapping]] = ..., location: _Optional[_Union[LocationContent, _Mapping]] = ..., contacts: _Optional[_Union[ContactsContent, _Mapping]] = ..., interactive: _Optional[_Union[InteractiveContent, _Mapping]] = ..., template: _Optional[_Union[TemplateContent, _Mapping]] = ..., reaction: _Optional[_Union[ReactionContent, _Mapping]] = ..., button_reply: _Optional[_Union[ButtonReplyContent, _Mapping]] = ..., list_reply: _Optional[_Union[ListReplyContent, _Mapping]] = ..., flow_reply: _Optional[_Union[FlowReplyContent, _Mapping]] = ..., template_button_reply: _Optional[_Union[TemplateButtonReplyContent, _Mapping]] = ..., order: _Optional[_Union[OrderContent, _Mapping]] = ..., system: _Optional[_Union[SystemContent, _Mapping]] = ..., unsupported: _Optional[_Union[UnsupportedContent, _Mapping]] = ...) -> None: ...

class Pricing(_message.Message):
    __slots__ = ("billable", "pricing_model", "type", "category", "conversation_origin_type", "conversation_expires_at", "provider_conversation_id")
    BILLABLE_FIELD_NUMBER: _ClassVar[int]
    PRICING_MODEL_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ORIGIN_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    billable: bool
    pricing_model: str
    type: str
    category: str
    conversation_origin_type: str
    conversation_expires_at: _timestamp_pb2.Timestamp
    provider_conversation_id: str
    def __init__(self, billable: _Optional[bool] = ..., pricing_model: _Optional[str] = ..., type: _Optional[str] = ..., category: _Optional[str] = ..., conversation_origin_type: _Optional[str] = ..., conversation_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., provider_conversation_id: _Optional[str] = ...) -> None: ...

class MessageRevision(_message.Message):
    __slots__ = ("replaced_at", "content", "edit_id")
    REPLACED_AT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    EDIT_ID_FIELD_NUMBER: _ClassVar[int]
    replaced_at: _timestamp_pb2.Timestamp
    content: Message
    edit_id: str
    def __init__(self, replaced_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., content: _Optional[_Union[Message, _Mapping]] = ..., edit_id: _Optional[str] = ...) -> None: ...

class StatusUpdate(_message.Message):
    __slots__ = ("provider_message_id", "message_id", "status", "timestamp", "recipient_id", "recipient_user_id", "errors", "pricing", "conversation_id", "biz_opaque_callback_data", "provider_conversation_id")
    PROVIDER_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_ID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_USER_ID_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    PRICING_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    BIZ_OPAQUE_CALLBACK_DATA_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    provider_message_id: str
    message_id: str
    status: MessageStatus
    timestamp: _timestamp_pb2.Timestamp
    recipient_id: str
    recipient_user_id: str
    errors: _containers.RepeatedCompositeFieldContainer[ProviderError]
    pricing: Pricing
    conversation_id: str
    biz_opaque_callback_data: str
    provider_conversation_id: str
    def __init__(self, provider_message_id: _Optional[str] = ..., message_id: _Optional[str] = ..., status: _Optional[_Union[MessageStatus, str]] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., recipient_id: _Optional[str] = ..., recipient_user_id: _Optional[str] = ..., errors: _Optional[_Iterable[_Union[ProviderError, _Mapping]]] = ..., pricing: _Optional[_Union[Pricing, _Mapping]] = ..., conversation_id: _Optional[str] = ..., biz_opaque_callback_data: _Optional[str] = ..., provider_conversation_id: _Optional[str] = ...) -> None: ...

class Conversation(_message.Message):
    __slots__ = ("id", "tenant_id", "channel_id", "contact", "last_message_at", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    LAST_MESSAGE_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    tenant_id: str
    channel_id: str
    contact: Contact
    last_message_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., channel_id: _Optional[str] = ..., contact: _Optional[_Union[Contact, _Mapping]] = ..., last_message_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
