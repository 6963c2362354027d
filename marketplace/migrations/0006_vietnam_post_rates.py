from decimal import Decimal

from django.db import migrations

# A copy of marketplace.fulfilment.shipping.DEFAULT_RATES at the time of this migration (migrations
# must not import code that may change later).
RATES = {
    "vnpost-same-province": (
        "Vietnam Post — nội tỉnh",
        [("0.5", 16500), ("1", 20000), ("2", 25000), ("5", 38000), ("10", 58000)],
    ),
    "vnpost-same-region": (
        "Vietnam Post — nội miền",
        [("0.5", 22000), ("1", 30000), ("2", 40000), ("5", 65000), ("10", 105000)],
    ),
    "vnpost-other-region": (
        "Vietnam Post — liên miền",
        [("0.5", 32000), ("1", 45000), ("2", 65000), ("5", 110000), ("10", 190000)],
    ),
}


def create_rates(apps, schema_editor):
    WeightBased = apps.get_model("shipping", "WeightBased")
    WeightBand = apps.get_model("shipping", "WeightBand")
    for code, (name, bands) in RATES.items():
        method, created = WeightBased.objects.get_or_create(
            code=code, defaults={"name": name, "default_weight": Decimal("0.5")}
        )
        if created:
            for limit, charge in bands:
                WeightBand.objects.create(
                    method=method, upper_limit=Decimal(limit), charge=Decimal(charge)
                )


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0005_free_shipping_threshold"),
        ("shipping", "0003_auto_20181115_1953"),
    ]

    operations = [migrations.RunPython(create_rates, migrations.RunPython.noop)]
