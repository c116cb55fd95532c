"""Every write about customers, one module per concern: ``resolution`` (identities to one
profile), ``merge`` (two profiles made one), ``profile``, ``consents``, ``ingestion``
(touchpoints), ``conversations`` (service conversations and notes, replies, CSAT),
``credentials`` (customers' tokens, storefronts' keys), ``accounts`` (sign-up, sign-in,
password), ``privacy`` (erasure, staff exports) and ``surveys`` (satisfaction survey links and
answers). Callers import from here (``from customers.services import merge_customers``), never
from a module of the package.

Merge and erasure hooks
-----------------------
An app that owns rows pointing at a customer needs nothing to take part in a merge: after the
registered handlers ran, the merged customer's sign-in tokens are revoked and every remaining
row of any model whose foreign key (or many-to-many) points at the merged customer is moved to
the survivor, found through ``Customer._meta.related_objects``. Register a handler only where
a plain move cannot work, e.g. a one-row-per-customer table (a points balance) whose rows must
be added together::

    from customers.services import register_merge_handler

    @register_merge_handler
    def merge_points(*, survivor, merged):
        ...  # runs inside the merge transaction, both customers locked

A handler that raises aborts the whole merge. ``register_erasure_handler`` works the same way
(``handler(*, customer)``): every app that holds personal data registers one in its
``AppConfig.ready`` (orders: addresses, notes, device ids; loyalty: cards; omni: kept API
answers), because erasure keeps other apps' rows as they are unless told. Handlers run before
the profile is anonymised, so they can still read the customer's identities.
``customers.selectors.register_export_section`` is the same idea for the data export.
"""

from customers.services.accounts import (
    INVALID_SIGN_UP_LINK,
    MAX_SIGN_UP_CONFIRM_ATTEMPTS,
    SIGN_UP_TOKEN_SALT,
    SignedIn,
    change_password,
    confirm_sign_up,
    purge_expired_sign_up_requests,
    request_sign_up,
    send_sign_up_email,
    sign_in,
    sign_out,
    sign_up_token,
)
from customers.services.consents import (
    ConsentDecision,
    record_consent,
    record_consents,
)
from customers.services.conversations import (
    Received,
    add_note,
    add_service_note,
    assign_conversation,
    conversation_for_csat_token,
    csat_url,
    mark_reply_delivered,
    open_conversation,
    rate_conversation,
    receive_message,
    reply_channel,
    reply_to_conversation,
    solve_conversation,
    write_to_own_conversation,
)
from customers.services.credentials import (
    issue_customer_token,
    issue_storefront_key,
    purge_expired_customer_tokens,
    record_customer_token_use,
    revoke_customer_tokens,
    revoke_storefront_key,
)
from customers.services.ingestion import (
    IngestionReport,
    ingest_touchpoints,
)
from customers.services.merge import (
    MERGED_PROFILE_FIELDS,
    MergeHandler,
    merge_customers,
    register_merge_handler,
    unregister_merge_handler,
)
from customers.services.privacy import (
    ErasureHandler,
    erase_customer,
    export_customers,
    register_erasure_handler,
    unregister_erasure_handler,
)
from customers.services.profile import (
    PROFILE_FIELDS,
    update_profile,
)
from customers.services.resolution import (
    ANONYMOUS_KINDS,
    Resolution,
    anonymous_kind,
    link_identity,
    resolve_customer,
    unlink_identity,
)
from customers.services.surveys import (
    EXPIRED_SURVEY_LINK,
    INVALID_SURVEY_LINK,
    QUESTIONS,
    SCALE_ENDS,
    SCORES,
    SURVEY_COMMENT_MAX_LENGTH,
    Scale,
    Survey,
    SurveyAnswer,
    answer_survey,
    answer_survey_for_order,
    answer_survey_with_token,
    check_answer,
    read_survey_token,
    survey_token,
    survey_url,
)

__all__ = [
    "ANONYMOUS_KINDS",
    "EXPIRED_SURVEY_LINK",
    "INVALID_SIGN_UP_LINK",
    "INVALID_SURVEY_LINK",
    "MAX_SIGN_UP_CONFIRM_ATTEMPTS",
    "MERGED_PROFILE_FIELDS",
    "PROFILE_FIELDS",
    "QUESTIONS",
    "SCALE_ENDS",
    "SCORES",
    "SIGN_UP_TOKEN_SALT",
    "SURVEY_COMMENT_MAX_LENGTH",
    "ConsentDecision",
    "ErasureHandler",
    "IngestionReport",
    "MergeHandler",
    "Received",
    "Resolution",
    "Scale",
    "SignedIn",
    "Survey",
    "SurveyAnswer",
    "add_note",
    "add_service_note",
    "anonymous_kind",
    "answer_survey",
    "answer_survey_for_order",
    "answer_survey_with_token",
    "assign_conversation",
    "change_password",
    "check_answer",
    "confirm_sign_up",
    "conversation_for_csat_token",
    "csat_url",
    "erase_customer",
    "export_customers",
    "ingest_touchpoints",
    "issue_customer_token",
    "issue_storefront_key",
    "link_identity",
    "mark_reply_delivered",
    "merge_customers",
    "open_conversation",
    "purge_expired_customer_tokens",
    "purge_expired_sign_up_requests",
    "rate_conversation",
    "read_survey_token",
    "receive_message",
    "record_consent",
    "record_consents",
    "record_customer_token_use",
    "register_erasure_handler",
    "register_merge_handler",
    "reply_channel",
    "reply_to_conversation",
    "request_sign_up",
    "resolve_customer",
    "revoke_customer_tokens",
    "revoke_storefront_key",
    "send_sign_up_email",
    "sign_in",
    "sign_out",
    "sign_up_token",
    "solve_conversation",
    "survey_token",
    "survey_url",
    "unlink_identity",
    "unregister_erasure_handler",
    "unregister_merge_handler",
    "update_profile",
    "write_to_own_conversation",
]
