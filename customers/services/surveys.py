"""Satisfaction surveys after an order (a pick-up collected, a delivery delivered, a till sale):
the signed link a message carries, and the answer stored as a ``survey_answer`` touchpoint.

A survey asks one question on one scale: ``nps`` ("how likely are you to recommend us", 0-10)
or ``csat`` ("how satisfied are you", 1-5). Its link (``survey_url``) holds a token signed with
``SECRET_KEY`` under its own salt, naming the customer by public id (never a database id), the
order (number, channel, store) and the campaign that asked; it expires after
``SURVEY_LINK_MAX_AGE_DAYS``. A forged, altered or expired token reads as ``InvalidInput`` and
nothing is written.

One answer per (order, scale): the touchpoint's ``event_id`` is a keyed hash of the two, so the
unique (channel, event id) of touchpoints holds it even against two answers at the same
instant; a second answer corrects the first (score, comment) rather than adding a row. The hash
is keyed so that no storefront can take an answer's event id first through event ingestion
(which refuses the ``survey_answer`` kind anyway).

Apps with an in-app survey answer through the API, with the link's token or with the order
number of one of the customer's finished orders (``answer_survey_for_order``); the order is
read through ``Customer``'s ``orders`` relation, never by importing ``orders``.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from customers.models import Customer, Touchpoint
from customers.selectors import profile_named_by
from omni.core.channels import Channel
from omni.core.errors import InvalidInput, InvalidRequest, NotFound, PermissionRefused

SURVEY_SALT = "customers.surveys.link"
EVENT_ID_SALT = "customers.surveys.event"
INVALID_SURVEY_LINK = "This survey link is not valid."
EXPIRED_SURVEY_LINK = "This survey link has expired."
SURVEY_COMMENT_MAX_LENGTH = 1000
ORDER_NUMBER_MAX_LENGTH = 20
STORE_CODE_MAX_LENGTH = 32  # as Touchpoint.store_code
CAMPAIGN_CODE_MAX_LENGTH = 64  # as Touchpoint.campaign_code
# An order is surveyed once it is finished: collected, delivered, or sold at the till.
FINISHED_ORDER_STATUSES = ("collected", "delivered", "completed")


class Scale(models.TextChoices):
    NPS = "nps", "Net Promoter Score (0-10)"
    CSAT = "csat", "Customer satisfaction (1-5)"


SCORES: dict[str, range] = {Scale.NPS: range(0, 11), Scale.CSAT: range(1, 6)}
QUESTIONS: dict[str, str] = {
    Scale.NPS: "How likely are you to recommend us to a friend or colleague?",
    Scale.CSAT: "How satisfied are you with your order?",
}
# The words under the ends of the scale on the page.
SCALE_ENDS: dict[str, tuple[str, str]] = {
    Scale.NPS: ("Not at all likely", "Extremely likely"),
    Scale.CSAT: ("Very unsatisfied", "Very satisfied"),
}


@dataclass(frozen=True)
class Survey:
    """What a survey link asks: ``customer``'s opinion of one order, on one scale."""

    customer: Customer
    scale: str
    order_number: str
    order_channel: str
    store_code: str = ""
    campaign_code: str = ""
    preview: bool = False  # a marketer's sample link: the page asks, nothing is recorded

    @property
    def question(self) -> str:
        return QUESTIONS[self.scale]

    @property
    def scores(self) -> range:
        return SCORES[self.scale]


@dataclass(frozen=True)
class SurveyAnswer:
    touchpoint: Touchpoint
    created: bool  # False: an earlier answer was corrected


# --- Links ----------------------------------------------------------------------------------


def _check_terms(
    *, scale: str, order_number: str, order_channel: str, store_code: str, campaign_code: str
) -> None:
    errors: dict[str, list[str]] = {}
    if scale not in Scale.values:
        errors["scale"] = [f"Expected one of {', '.join(Scale.values)}."]
    if not order_number or len(order_number) > ORDER_NUMBER_MAX_LENGTH:
        errors["order_number"] = [f"An order number of 1 to {ORDER_NUMBER_MAX_LENGTH} characters."]
    if order_channel not in Channel.values:
        errors["order_channel"] = [f"Expected one of {', '.join(Channel.values)}."]
    if len(store_code) > STORE_CODE_MAX_LENGTH:
        errors["store_code"] = [f"At most {STORE_CODE_MAX_LENGTH} characters."]
    if len(campaign_code) > CAMPAIGN_CODE_MAX_LENGTH:
        errors["campaign_code"] = [f"At most {CAMPAIGN_CODE_MAX_LENGTH} characters."]
    if errors:
        raise InvalidInput("A survey link cannot be made of these values.", details=errors)


def survey_token(
    customer: Customer,
    *,
    scale: str,
    order_number: str,
    order_channel: str,
    store_code: str = "",
    campaign_code: str = "",
    preview: bool = False,
) -> str:
    _check_terms(
        scale=scale,
        order_number=order_number,
        order_channel=order_channel,
        store_code=store_code,
        campaign_code=campaign_code,
    )
    payload: dict[str, object] = {
        "c": str(customer.public_id),
        "s": scale,
        "o": order_number,
        "ch": order_channel,
        "st": store_code,
        "cp": campaign_code,
    }
    if preview:
        payload["pv"] = True
    return signing.dumps(payload, salt=SURVEY_SALT, compress=True)


def survey_url(
    customer: Customer,
    *,
    scale: str,
    order_number: str,
    order_channel: str,
    store_code: str = "",
    campaign_code: str = "",
    preview: bool = False,
) -> str:
    """The absolute address (``PUBLIC_BASE_URL``) of the page that asks ``customer`` about
    the order on ``scale``; ``InvalidInput`` for values no survey can be made of. A
    ``preview`` link (for a marketer's preview) shows the page but records nothing."""
    token = survey_token(
        customer,
        scale=scale,
        order_number=order_number,
        order_channel=order_channel,
        store_code=store_code,
        campaign_code=campaign_code,
        preview=preview,
    )
    return f"{settings.PUBLIC_BASE_URL}{reverse('survey-answer', args=[token])}"


def read_survey_token(token: str) -> Survey:
    """The survey a token asks; ``InvalidInput`` when it is forged, altered, expired, names
    nobody or an erased customer (a customer merged since is followed to the survivor)."""
    max_age = timedelta(days=settings.SURVEY_LINK_MAX_AGE_DAYS)
    try:
        payload: dict[str, Any] = signing.loads(token, salt=SURVEY_SALT, max_age=max_age)
        public_id = str(payload["c"])
        UUID(public_id)
        terms = {
            "scale": str(payload["s"]),
            "order_number": str(payload["o"]),
            "order_channel": str(payload["ch"]),
            "store_code": str(payload["st"]),
            "campaign_code": str(payload["cp"]),
        }
        _check_terms(**terms)
    except signing.SignatureExpired:
        raise InvalidInput(EXPIRED_SURVEY_LINK, details={"token": ["Expired."]}) from None
    except (signing.BadSignature, InvalidInput, KeyError, TypeError, ValueError):
        raise InvalidInput(INVALID_SURVEY_LINK, details={"token": ["Not valid."]}) from None
    customer = profile_named_by(public_id)
    if customer is None or customer.erased_at is not None:
        raise InvalidInput(INVALID_SURVEY_LINK, details={"token": ["Not valid."]})
    return Survey(customer=customer, preview=payload.get("pv") is True, **terms)


# --- Answers --------------------------------------------------------------------------------


def survey_event_id(scale: str, order_number: str) -> str:
    """The answer's event id: the same for every answer to one order on one scale."""
    digest = salted_hmac(EVENT_ID_SALT, f"{scale}:{order_number}").hexdigest()[:40]
    return f"survey:{scale}:{digest}"


def check_answer(survey: Survey, *, score: Any, comment: str) -> int:
    """The score as an integer of the survey's scale; ``InvalidInput`` naming the field."""
    errors: dict[str, list[str]] = {}
    scores = survey.scores
    value: int | None = None
    if isinstance(score, int) and not isinstance(score, bool):
        value = score
    elif isinstance(score, str) and score.strip().isdigit():
        value = int(score.strip())
    if value not in scores:
        value = None
        errors["score"] = [f"Choose a score from {scores[0]} to {scores[-1]}."]
    if len(comment) > SURVEY_COMMENT_MAX_LENGTH:
        errors["comment"] = [f"At most {SURVEY_COMMENT_MAX_LENGTH} characters."]
    if errors or value is None:
        raise InvalidInput("This answer cannot be recorded.", details=errors)
    return value


@transaction.atomic
def answer_survey(
    *,
    survey: Survey,
    score: Any,
    comment: str = "",
    answered_via: str,
    now: datetime | None = None,
) -> SurveyAnswer:
    """Record (or correct) the customer's answer to ``survey`` as a ``survey_answer``
    touchpoint: channel and store of the order, the campaign that asked, and properties
    {scale, score, comment, order_number, answered_via}. A bad score or an over-long comment:
    ``InvalidInput``, nothing written. Safe against two answers at once: the second insert
    waits on the unique event id, fails, and corrects the row the first one wrote."""
    value = check_answer(survey, score=score, comment=comment)
    if survey.preview:
        raise InvalidRequest("This is a preview of the survey: answers to it are not recorded.")
    if survey.customer.erased_at is not None:
        raise InvalidRequest("This customer's data was erased.")
    now = now or timezone.now()
    event_id = survey_event_id(survey.scale, survey.order_number)
    properties = {
        "scale": survey.scale,
        "score": value,
        "comment": comment.strip(),
        "order_number": survey.order_number,
        "answered_via": answered_via[:40],
    }
    if _correct(survey, event_id, properties, now):
        return SurveyAnswer(_answer_row(survey, event_id), created=False)
    try:
        with transaction.atomic():
            touchpoint = Touchpoint.objects.create(
                customer=survey.customer,
                kind=Touchpoint.Kind.SURVEY_ANSWER,
                channel=survey.order_channel,
                event_id=event_id,
                occurred_at=now,
                store_code=survey.store_code,
                campaign_code=survey.campaign_code,
                properties=properties,
            )
    except IntegrityError:
        # Another answer to the same order and scale committed first: this one corrects it.
        _correct(survey, event_id, properties, now)
        return SurveyAnswer(_answer_row(survey, event_id), created=False)
    return SurveyAnswer(touchpoint, created=True)


def _answers(survey: Survey, event_id: str) -> "models.QuerySet[Touchpoint]":
    return Touchpoint.objects.filter(
        channel=survey.order_channel, event_id=event_id, kind=Touchpoint.Kind.SURVEY_ANSWER
    )


def _correct(survey: Survey, event_id: str, properties: dict[str, Any], now: datetime) -> bool:
    """Overwrite an earlier answer (first answered at ``occurred_at``, kept); False if none."""
    return bool(
        _answers(survey, event_id).update(
            properties={**properties, "corrected_at": now.isoformat()}
        )
    )


def _answer_row(survey: Survey, event_id: str) -> Touchpoint:
    return _answers(survey, event_id).get()


@dataclass(frozen=True)
class SurveyedOrder:
    number: str
    channel: str
    store_code: str


def surveyed_order(customer: Customer, order_number: str) -> SurveyedOrder:
    """The customer's finished order of that number, through ``Customer.orders``. Not theirs
    or unknown: ``NotFound`` (the two are not told apart); not finished: ``InvalidRequest``."""
    found = (
        Customer.objects.filter(pk=customer.pk, orders__number=order_number)
        .values("orders__channel", "orders__status", "orders__store__code")
        .first()
    )
    if found is None:
        raise NotFound(
            "You have no order with this number.", details={"order_number": [order_number]}
        )
    if found["orders__status"] not in FINISHED_ORDER_STATUSES:
        raise InvalidRequest(
            "This order is not finished yet: tell us about it once you have it.",
            details={"order_number": ["Not collected, delivered or completed yet."]},
        )
    return SurveyedOrder(
        number=order_number,
        channel=found["orders__channel"],
        store_code=found["orders__store__code"] or "",
    )


def answer_survey_for_order(
    *,
    customer: Customer,
    order_number: str,
    scale: str,
    score: Any,
    comment: str = "",
    answered_via: str,
    now: datetime | None = None,
) -> SurveyAnswer:
    """An in-app answer about one of the customer's own finished orders (no link)."""
    if scale not in Scale.values:
        raise InvalidInput(
            "Unknown survey scale.",
            details={"scale": [f"Expected one of {', '.join(Scale.values)}."]},
        )
    order = surveyed_order(customer, order_number)
    survey = Survey(
        customer=customer,
        scale=scale,
        order_number=order.number,
        order_channel=order.channel,
        store_code=order.store_code,
    )
    return answer_survey(
        survey=survey, score=score, comment=comment, answered_via=answered_via, now=now
    )


def answer_survey_with_token(
    *,
    customer: Customer,
    token: str,
    score: Any,
    comment: str = "",
    answered_via: str,
    now: datetime | None = None,
) -> SurveyAnswer:
    """An in-app answer with a survey link's token: only the customer it names may use it."""
    survey = read_survey_token(token)
    if survey.customer.pk != customer.pk:
        raise PermissionRefused("This survey was sent to another customer.")
    return answer_survey(
        survey=survey, score=score, comment=comment, answered_via=answered_via, now=now
    )
