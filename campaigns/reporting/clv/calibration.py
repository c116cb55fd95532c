"""The calibration/holdout report of Fader, Hardie & Lee (2005, figure 4): the model fitted
on the history before a cut-off predicts each customer's purchases in the holdout period
after it; customers are grouped by how many repeat purchases they made before the cut-off,
and each group's mean prediction is set beside its mean actual count."""

from __future__ import annotations

from typing import Any

import numpy as np

from campaigns.reporting.clv import bgnbd
from campaigns.reporting.clv.history import Histories

# Groups 0, 1, ... LAST - 1 and "LAST+", as in the paper's figure (7+).
LAST = 7
COLUMNS = ("repeat_purchases", "customers", "actual", "predicted")


def calibration_report(
    params: bgnbd.BgNbd, histories: Histories, *, holdout_days: int
) -> list[dict[str, Any]]:
    """One row per group with customers: ``repeat_purchases`` ("0".."6", "7+"), how many
    customers, their mean actual and predicted purchases in the holdout, then a "total" row."""
    predicted = bgnbd.expected_purchases(
        params, holdout_days, histories.x, histories.t_x, histories.big_t
    )
    actual = histories.holdout_x
    group = np.minimum(histories.x, LAST).astype(int)
    rows = []
    for g in range(LAST + 1):
        members = group == g
        if members.any():
            label = f"{LAST}+" if g == LAST else str(g)
            rows.append(_row(label, actual[members], predicted[members]))
    if len(histories):
        rows.append(_row("total", actual, predicted))
    return rows


def _row(label: str, actual: Any, predicted: Any) -> dict[str, Any]:
    return {
        "repeat_purchases": label,
        "customers": int(actual.shape[0]),
        "actual": round(float(actual.mean()), 4),
        "predicted": round(float(predicted.mean()), 4),
    }
