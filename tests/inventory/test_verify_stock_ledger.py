from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from inventory.models import StockLevel
from tests.inventory.factories import LocationFactory, SkuFactory, stock

pytestmark = pytest.mark.django_db


def verify(*args) -> str:
    out = StringIO()
    call_command("verify_stock_ledger", *args, stdout=out)
    return out.getvalue()


def test_a_consistent_stock_passes_with_progress_across_chunks():
    store = LocationFactory()
    for _ in range(5):
        stock(SkuFactory(), store, 4)

    output = verify("--chunk", "2")

    assert "5/5 levels checked" in output
    assert "All 5 stock levels agree" in output


def test_a_level_changed_behind_the_ledgers_back_is_reported_and_fails():
    store = LocationFactory()
    good = stock(SkuFactory(), store, 4)
    bad = stock(SkuFactory(), store, 4)
    StockLevel.objects.filter(pk=bad.pk).update(on_hand=9)  # what no service would do

    out = StringIO()
    with pytest.raises(CommandError, match="1 of 2"):
        call_command("verify_stock_ledger", stdout=out)

    assert f"DRIFT {bad.sku.code}" in out.getvalue()
    assert good.sku.code not in out.getvalue()
