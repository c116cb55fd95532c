"""Every write of campaigns, each atomic. One module per concern: ``refresh`` (materialising
a segment's members set-based in SQL, on demand and on schedule), ``static`` (static segments
from an uploaded CSV), ``rfm`` (RFM scores), ``audience`` (hashed audience files for
advertising platforms). Callers import from ``campaigns.services``."""

from campaigns.services.audience import (
    EXPORT_AUDIENCE,
    AudienceFile,
    audience,
    export_audience,
)
from campaigns.services.refresh import (
    eligible_customers,
    refresh_scheduled_segments,
    refresh_segment,
)
from campaigns.services.rfm import refresh_rfm_scores
from campaigns.services.static import MemberFileInvalid, import_static_members

__all__ = [
    "EXPORT_AUDIENCE",
    "AudienceFile",
    "MemberFileInvalid",
    "audience",
    "eligible_customers",
    "export_audience",
    "import_static_members",
    "refresh_rfm_scores",
    "refresh_scheduled_segments",
    "refresh_segment",
]
