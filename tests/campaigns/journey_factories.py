"""Triggered journeys ready to run: a trigger, steps, an e-mail in variant A (personalised
with the occasion's values where the trigger has them), started."""

from campaigns import services
from campaigns.models import Campaign, CampaignVariant, JourneyStep

MESSAGE = ("message",)


def wait(hours: int) -> tuple:
    return ("wait", hours)


def condition(rules: dict) -> tuple:
    return ("condition", rules)


def journey(
    trigger: str,
    *steps: tuple,
    params: dict | None = None,
    text: str = "Hello {{ first_name }}",
    start: bool = True,
    variants: tuple[str, ...] = ("A",),
    **fields,
) -> Campaign:
    made = Campaign.objects.create(
        name=f"Journey {trigger}",
        kind=Campaign.Kind.TRIGGERED,
        trigger=trigger,
        trigger_params=params or {},
        channels=fields.pop("channels", ["email"]),
        **fields,
    )
    for code in variants:
        CampaignVariant.objects.create(
            campaign=made, code=code, email_subject=f"{code}: {text}", email_text=text
        )
    for position, step in enumerate(steps or (MESSAGE,), start=1):
        kind, *argument = step
        values = {}
        if kind == "wait":
            values["wait_hours"] = argument[0]
        elif kind == "condition":
            values["rules"] = argument[0]
        elif argument:
            values["variant_code"] = argument[0]
        JourneyStep.objects.create(campaign=made, position=position, kind=kind, **values)
    if start:
        made = services.start_campaign(campaign=made)
    return made
