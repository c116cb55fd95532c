"""Orders from every channel and their lines."""

from decimal import Decimal

from django.db import models

from omni.channels import Channel
from omni.money import default_currency


class Order(models.Model):
    class Fulfilment(models.TextChoices):
        DELIVERY = "delivery", "Delivery"
        PICKUP = "pickup", "Pick-up in store"
        IN_STORE = "in_store", "In-store sale"

    class Status(models.TextChoices):
        PLACED = "placed", "Placed"
        READY_FOR_PICKUP = "ready_for_pickup", "Ready for pick-up"
        COLLECTED = "collected", "Collected"
        ALLOCATED = "allocated", "Allocated"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    number = models.CharField(max_length=20, unique=True, help_text="Public order number.")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    fulfilment = models.CharField(max_length=16, choices=Fulfilment.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLACED)
    currency = models.CharField(max_length=3, default=default_currency)
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    placed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total__gte=0), name="order_total_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("inventory.Sku", on_delete=models.PROTECT, related_name="order_lines")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="order_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0), name="order_line_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"
