"""campaigns reads orders and loyalty through Customer's relations, never by importing them:
these names and values must keep meaning what the segment rules think they mean."""

from campaigns.rules import relations
from campaigns.rules.profile import DELIVERY
from loyalty.models import Account, PointsLot, Tier
from orders.models import Order, OrderLine, Return


def test_the_relations_lead_to_the_models_the_rules_expect():
    assert relations.order_model() is Order
    assert relations.order_line_model() is OrderLine
    assert relations.return_model() is Return
    assert relations.loyalty_account_model() is Account
    assert relations.tier_model() is Tier
    assert relations.points_lot_model() is PointsLot


def test_every_order_status_but_cancelled_and_expired_is_a_purchase():
    assert set(Order.Status.values) >= relations.NOT_PURCHASES
    assert set(relations.purchase_statuses()) == set(Order.Status.values) - {
        Order.Status.CANCELLED,
        Order.Status.EXPIRED,
    }
    assert DELIVERY == Order.Fulfilment.DELIVERY
