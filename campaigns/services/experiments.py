"""Who gets which variant of a campaign, and who is held out: decided by a hash of the
campaign's and the customer's public ids, so the answer is the same on every run, every worker
and every machine (a resumed send, a preview and the results agree without storing a draw).

The hash gives each (campaign, customer) a point in [0, 1): the first ``holdout`` share of the
line is the holdout, the rest is cut into the variants in proportion to their weights (ordered
by code). A campaign that tests first cuts only the first ``test`` share of what the holdout
left into the variants; the customers beyond it (``REST``) get the winner later. SHA-256
spreads consecutive ids evenly, so splits come out as asked even on small audiences (no
"uneven A/B split" from a modulo of a sequence).
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

HOLDOUT = ""  # the assignment of a customer in the holdout: no variant
REST = "*"  # ... of a customer beyond the test share: the winning variant, once chosen


@dataclass(frozen=True)
class Arm:
    code: str
    weight: int


def position(campaign_id: UUID | str, customer_id: UUID | str) -> float:
    """The (campaign, customer) pair's point in [0, 1): 64 bits of SHA-256."""
    digest = hashlib.sha256(f"{campaign_id}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(
    *,
    campaign_id: UUID | str,
    customer_id: UUID | str,
    arms: Sequence[Arm],
    holdout_percent: Decimal | int,
    test_percent: Decimal | int = 0,
) -> str:
    """The code of the customer's variant, ``HOLDOUT``, or ``REST`` (beyond the test share)."""
    point = position(campaign_id, customer_id)
    holdout = float(holdout_percent) / 100
    if point < holdout or not arms:
        return HOLDOUT
    total = sum(arm.weight for arm in arms)
    if total <= 0:
        return HOLDOUT
    # Where the point falls in what the holdout left (0 to 1), then in the test share.
    share = (point - holdout) / (1 - holdout)
    if test_percent:
        tested = float(test_percent) / 100
        if share >= tested:
            return REST
        share /= tested
    target = share * total
    reached = 0
    ordered = sorted(arms, key=lambda arm: arm.code)
    for arm in ordered:
        reached += arm.weight
        if target < reached:
            return arm.code
    return ordered[-1].code  # float rounding at the very end of the line
