"""The personalisation language of campaign messages: a deliberately tiny, safe subset of
Django's template syntax, checked when a campaign is saved and rendered per customer.

Only ``{{ variable }}`` or ``{{ variable|filter }}`` (one filter, from a short list; ``default``
takes a quoted argument): no tags (``{% %}``), no attribute lookups, no other filters. Marketers
cannot reach anything but the values a campaign hands over (``VARIABLES``), and a typo is a
validation error on the field rather than an empty gap in a million messages. HTML bodies are
autoescaped; text, SMS and push are not (they are not HTML).

Also here: the survey link of a message sent about one order (``survey_link``), and the length
of an SMS and how many parts it is sent in (GSM-7 or UCS-2).
"""

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from django.utils.html import escape

from customers.models import Customer
from customers.services import survey_url
from omni.core.errors import InvalidInput

# What a message may name, with what it holds (the admin shows this list).
VARIABLES: dict[str, str] = {
    "first_name": "the customer's first name",
    "tier": "their loyalty tier (empty for non-members)",
    "points": "their available points",
    "store": "the name of their preferred store",
    "code": "their coupon code (the campaign's shared code or their own from its batch)",
    "offer": "the name of the campaign's offer",
    "products": "a few recommended products, never one they bought in the last days",
    "survey_link": "a link to the satisfaction survey about the order the message follows "
    "(a pick-up, a delivery, a till sale); empty in a message not sent about an order",
}
FILTERS = ("default", "upper", "lower", "capfirst")

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_EXPRESSION = re.compile(r'^\s*([a-z_]+)\s*(?:\|\s*([a-z_]+)\s*(?::\s*"([^"{}]*)")?\s*)?$')
_FORBIDDEN = ("{%", "%}", "{#", "#}")


class TemplateInvalid(InvalidInput):
    """A message uses what the language does not have; ``errors`` lists each problem."""

    def __init__(self, errors: list[str]):
        super().__init__(" ".join(errors), details={"template": errors})
        self.errors = errors


@dataclass(frozen=True)
class Placeholder:
    variable: str
    filter: str
    argument: str


def parse(template: str, extra: Collection[str] = ()) -> list[str | Placeholder]:
    """The template as text pieces and placeholders; ``TemplateInvalid`` naming every problem.
    ``extra``: variables this message has besides ``VARIABLES`` (a journey's occasion)."""
    errors: list[str] = []
    for marker in _FORBIDDEN:
        if marker in template:
            errors.append(f"Tags and comments ({marker}) are not allowed: use {{{{ variable }}}}.")
            break
    pieces: list[str | Placeholder] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        pieces.append(template[position : match.start()])
        position = match.end()
        expression = _EXPRESSION.match(match.group(1))
        if expression is None:
            errors.append(f"{match.group(0)} is not a variable (write {{{{ first_name }}}}).")
            continue
        variable, filter_, argument = expression.group(1), expression.group(2) or "", ""
        if variable not in VARIABLES and variable not in extra:
            known = ", ".join([*VARIABLES, *extra])
            errors.append(f"Unknown variable {variable!r}: use one of {known}.")
        if filter_ and filter_ not in FILTERS:
            errors.append(f"Unknown filter {filter_!r}: use one of {', '.join(FILTERS)}.")
        if expression.group(3) is not None:
            if filter_ != "default":
                errors.append(f"Only the default filter takes an argument ({match.group(0)}).")
            argument = expression.group(3)
        elif filter_ == "default":
            errors.append('The default filter needs its text: {{ first_name|default:"friend" }}.')
        pieces.append(Placeholder(variable, filter_, argument))
    rest = template[position:]
    if "{{" in rest or "}}" in rest:
        errors.append("A {{ is not closed by }} (or the other way round).")
    pieces.append(rest)
    if errors:
        raise TemplateInvalid(errors)
    return pieces


def check(template: str, extra: Collection[str] = ()) -> set[str]:
    """The variables the template uses (``TemplateInvalid`` if it is not valid)."""
    return {piece.variable for piece in parse(template, extra) if isinstance(piece, Placeholder)}


def _value(raw: object) -> str:
    if raw is None:
        return ""
    if isinstance(raw, Sequence) and not isinstance(raw, str):
        return ", ".join(str(item) for item in raw)
    return str(raw)


def _apply(placeholder: Placeholder, value: str) -> str:
    if placeholder.filter == "default":
        return value or placeholder.argument
    if placeholder.filter == "upper":
        return value.upper()
    if placeholder.filter == "lower":
        return value.lower()
    if placeholder.filter == "capfirst":
        return value[:1].upper() + value[1:]
    return value


def render(template: str, values: Mapping[str, object], *, html: bool = False) -> str:
    """The template with each placeholder replaced by its value (escaped when ``html``); the
    template's own markup is the marketer's and stays as written."""
    out = []
    for piece in parse(template, values.keys()):
        if isinstance(piece, str):
            out.append(piece)
            continue
        value = _apply(piece, _value(values.get(piece.variable)))
        out.append(str(escape(value)) if html else value)
    return "".join(out)


# --- Survey link ----------------------------------------------------------------------------

# What a recipient's context (a journey's enrollment after an order) holds for the survey link.
SURVEY_CONTEXT_KEYS = (
    "order_number",
    "order_channel",
    "store_code",
    "campaign_code",
    "survey_scale",
)
DEFAULT_SURVEY_SCALE = "nps"
PREVIEW_ORDER_NUMBER = "PREVIEW"


def survey_link(customer: Customer, context: Mapping[str, object]) -> str:
    """The value of ``survey_link`` for one recipient: the signed link to the survey about the
    order the context names (``order_number``, ``order_channel``, ``store_code``, the asking
    campaign's public id as ``campaign_code``, and ``survey_scale``, ``nps`` unless told), or
    "" when the context names no order. Values no survey can be made of raise
    ``InvalidInput``: the context is made by code, and a bug there must not send dead links."""
    order_number = str(context.get("order_number") or "")
    order_channel = str(context.get("order_channel") or "")
    if not order_number or not order_channel:
        return ""
    return survey_url(
        customer,
        scale=str(context.get("survey_scale") or DEFAULT_SURVEY_SCALE),
        order_number=order_number,
        order_channel=order_channel,
        store_code=str(context.get("store_code") or ""),
        campaign_code=str(context.get("campaign_code") or ""),
    )


def sample_survey_link(customer: Customer, *, campaign_code: str = "") -> str:
    """A working link to the survey page for a preview, about no real order: the page asks
    its question and records nothing."""
    return survey_url(
        customer,
        scale=DEFAULT_SURVEY_SCALE,
        order_number=PREVIEW_ORDER_NUMBER,
        order_channel="web",
        campaign_code=campaign_code,
        preview=True,
    )


# --- SMS length ---------------------------------------------------------------------------

# The GSM 03.38 default alphabet; the extension table's characters take two septets.
_GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "UCS-2"
    characters: int  # in the encoding's units (an extended GSM character counts 2)
    parts: int
    per_part: int

    def __str__(self) -> str:
        plural = "part" if self.parts == 1 else "parts"
        return (
            f"{self.characters} characters, {self.parts} {plural} "
            f"({self.encoding}, {self.per_part} per part)"
        )


def sms_length(text: str) -> SmsLength:
    """How an SMS of ``text`` travels: GSM-7 (160 characters in one part, 153 per part when
    concatenated) unless one character is outside it, then UCS-2 (70, or 67 per part; a
    character beyond the basic plane takes two units)."""
    if all(ch in _GSM7_BASIC or ch in _GSM7_EXTENDED for ch in text):
        units = sum(2 if ch in _GSM7_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
        single, multi, encoding = 70, 67, "UCS-2"
    if units == 0:
        return SmsLength(encoding, 0, 0, single)
    if units <= single:
        return SmsLength(encoding, units, 1, single)
    return SmsLength(encoding, units, -(-units // multi), multi)
