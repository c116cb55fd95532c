"""Customer lifetime value: the BG/NBD model of repeat purchases and the Gamma-Gamma model of
spend (``bgnbd``, ``gamma_gamma``: pure numpy, fitted by maximum likelihood with scipy), the
purchase histories they read (``history``, one SQL query), the calibration/holdout report
(``calibration``), and the run that writes every ``CustomerValue`` and a ``ClvFit``
(``values``). Other code imports from here."""

from campaigns.reporting.clv.bgnbd import BgNbd
from campaigns.reporting.clv.calibration import COLUMNS as CALIBRATION_COLUMNS
from campaigns.reporting.clv.calibration import calibration_report
from campaigns.reporting.clv.fitting import FitFailed
from campaigns.reporting.clv.gamma_gamma import GammaGamma
from campaigns.reporting.clv.history import Histories, purchase_histories
from campaigns.reporting.clv.values import (
    EXPECTED_PURCHASES_DAYS,
    MAX_HORIZON_DAYS,
    Fitted,
    check_settings,
    compute_customer_values,
    fit_models,
    predict,
)

__all__ = [
    "CALIBRATION_COLUMNS",
    "EXPECTED_PURCHASES_DAYS",
    "MAX_HORIZON_DAYS",
    "BgNbd",
    "FitFailed",
    "Fitted",
    "GammaGamma",
    "Histories",
    "calibration_report",
    "check_settings",
    "compute_customer_values",
    "fit_models",
    "predict",
    "purchase_histories",
]
