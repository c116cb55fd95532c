"""Scheduled and background campaign work; each task is a thin wrapper over a service."""

from dataclasses import asdict

from celery import shared_task

from campaigns import services
from campaigns.reporting import attribution, clv


@shared_task(name="campaigns.refresh_segments")
def refresh_segments() -> dict[str, int]:
    return services.refresh_scheduled_segments()


@shared_task(name="campaigns.refresh_rfm_scores")
def refresh_rfm_scores() -> int:
    return services.refresh_rfm_scores()


@shared_task(name="campaigns.refresh_affinities")
def refresh_affinities() -> int:
    return services.refresh_affinities()


@shared_task(name="campaigns.send_campaign")
def send_campaign(campaign_id: int) -> dict[str, int | bool]:
    """Send a running campaign's audience in batches. A retried or repeated task carries on
    from the campaign's cursor and queues nobody twice (see ``services.sending``)."""
    return asdict(services.send_campaign(campaign_id=campaign_id))


@shared_task(name="campaigns.start_due_campaigns")
def start_due_campaigns() -> list[str]:
    return services.start_due_campaigns()


@shared_task(name="campaigns.run_journeys")
def run_journeys() -> dict[str, int]:
    """Enrol new entrants and advance due steps of every running journey. Two runs at once
    send nobody a step twice (see ``services.journeys``)."""
    return asdict(services.run_journeys())


@shared_task(name="campaigns.compute_customer_values")
def compute_customer_values() -> dict[str, int]:
    fit = clv.compute_customer_values()
    return {"customers": fit.customers, "repeat_customers": fit.repeat_customers}


@shared_task(name="campaigns.compute_attribution")
def compute_attribution() -> int:
    """Yesterday's attribution roll-up; returns the orders credited."""
    return attribution.compute_yesterday().orders
