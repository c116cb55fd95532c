"""Every change of stock, each atomic: the ledger, reservations, sales, transfers, counts and
low-stock alerts, one module per concern, all re-exported here so callers import
``inventory.services``.

Rules that hold here and nowhere else:
- on hand changes only by appending StockMovement rows, with the level updated in the same
  transaction, so a level always equals the sum of its ledger;
- a transaction that changes several levels locks them in primary-key order
  (``inventory.locks``), so two multi-line orders never deadlock;
- online channels take only *available* stock (on hand - reserved - safety stock); a clerk's
  sale or a transfer may use the safety stock but never stock reserved for someone else, and
  on hand never goes below zero.
"""

from inventory.services.alerts import raise_low_stock_alerts
from inventory.services.cycle_counts import (
    CountFileInvalid,
    parse_count_csv,
    record_count_file,
    record_cycle_count,
)
from inventory.services.ledger import (
    MovementSpec,
    record_movement,
    record_movements,
    validate_movement,
)
from inventory.services.levels import ensure_levels, level_ids
from inventory.services.reservations import (
    StockLine,
    consume_reservations,
    consume_reserved,
    expire_cart_holds,
    extend_holds,
    release_reservations,
    release_reserved,
    reserve,
)
from inventory.services.sales import sell_in_store
from inventory.services.transfers import (
    TRANSFER_TRANSITIONS,
    cancel_transfer,
    receive_transfer,
    request_transfer,
    ship_transfer,
)

__all__ = [
    "TRANSFER_TRANSITIONS",
    "CountFileInvalid",
    "MovementSpec",
    "StockLine",
    "cancel_transfer",
    "consume_reservations",
    "consume_reserved",
    "ensure_levels",
    "expire_cart_holds",
    "extend_holds",
    "level_ids",
    "parse_count_csv",
    "raise_low_stock_alerts",
    "receive_transfer",
    "record_count_file",
    "record_cycle_count",
    "record_movement",
    "record_movements",
    "release_reservations",
    "release_reserved",
    "request_transfer",
    "reserve",
    "sell_in_store",
    "ship_transfer",
    "validate_movement",
]
