"""Maximum likelihood shared by the CLV models: scipy's optimiser on the logarithms of the
parameters (every parameter stays positive), refusing a fit that did not converge or ran to
the edge of the search space rather than returning numbers no one should use."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import OptimizeResult, minimize

from omni.core.errors import InvalidRequest

FloatArray = NDArray[np.float64]

# The search space of each log-parameter: e^-12 to e^12 (6e-6 to 160 000). A maximum on its
# edge means the data cannot tell the parameter (no dropout at all, one spend for everyone).
LOG_BOUND = 12.0
EDGE = 1e-3


class FitFailed(InvalidRequest):
    """The optimiser found no maximum of the likelihood: too little or too odd a history.
    Nothing is stored (the last good fit stays)."""


def maximise(
    log_likelihood: Callable[[FloatArray], float],
    start: FloatArray,
    *,
    model: str,
    names: Sequence[str],
) -> tuple[float, ...]:
    """The parameters (not their logs) maximising ``log_likelihood(log_params)``.

    L-BFGS-B (numerical gradients, about a hundred evaluations of the likelihood for four
    parameters) first; when its line search gives up, Nelder-Mead from where it stopped,
    slower but needing no gradient. ``FitFailed`` when neither converges or the maximum lies
    on the edge of the search space."""

    def negative(log_params: FloatArray) -> float:
        value = log_likelihood(log_params)
        # A step into a region where the likelihood is not a number is a step back.
        return -value if np.isfinite(value) else 1e300

    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
    with np.errstate(all="ignore"):
        result: OptimizeResult = minimize(negative, start, method="L-BFGS-B", bounds=bounds)
        if not result.success:
            result = minimize(
                negative, result.x, method="Nelder-Mead", bounds=bounds, options=NELDER_MEAD
            )
    if not result.success or not np.isfinite(result.fun) or result.fun >= 1e300:
        raise FitFailed(
            f"The {model} model could not be fitted: the optimiser did not converge "
            f"({result.message}).",
            details={"reason": "fit_failed", "model": model},
        )
    on_edge = [name for name, v in zip(names, result.x, strict=True) if abs(v) > LOG_BOUND - EDGE]
    if on_edge:
        raise FitFailed(
            f"The {model} model could not be fitted: the history does not determine "
            f"{', '.join(on_edge)} (the likelihood grows without limit in that direction).",
            details={"reason": "fit_failed", "model": model, "parameters": on_edge},
        )
    return tuple(float(p) for p in np.exp(result.x))


NELDER_MEAD = {"xatol": 1e-7, "fatol": 1e-7, "maxiter": 20_000, "maxfev": 40_000}
