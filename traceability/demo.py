"""Demo lots with farm-event timelines for most demo products.

Runs after marketplace.demo.base.seed (and the certificates): settings.DEMO_SEEDERS lists
"traceability.demo.seed" after "farmers.demo.seed". Idempotent: a lot is keyed by product +
lot code ("DEMO-" + the product's code), and left alone once it exists. Dates are counted
back from today, so the certificates valid today were valid at harvest too.

Food safety (traceability.safety), each shown on its trace page with no "buy" link:
- Sầu riêng Monthong (NS0006) was sprayed with Abamectin 1.8EC three days before harvest
  although its pre-harvest interval is 7 days: the harvest was recorded with the farmer's
  confirmation, and the lot waits for the operator's review (/quan-tri/lo-can-xem-xet/);
- Bơ booth (NS0007) is past its expiry date;
- Quế Trà Bồng bột (NS0018) is recalled (traceability.recalls.seed_demo).
Sầu riêng Ri6 (NS0005) carries a correction of its harvest quantity. Lots carry the
standards they apply and their brand (Circular 02/2024/TT-BKHCN).
"""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from oscar.core.loading import get_model

from marketplace.demo.base import FARMER_SHOP, PRODUCERS, PRODUCTS, USERS

from . import demo_epcis
from .models import FarmEvent, Lot
from .services import create_lot, record_event

Product = get_model("catalogue", "Product")
K = FarmEvent.Kind

ORGANIC_FERTILISER = {
    "product_name": "Phân hữu cơ vi sinh Sông Gianh",
    "dose": "2",
    "unit": "kg/gốc",
    "pre_harvest_interval_days": 0,
    "kind_of_input": "Phân bón",
}
ABAMECTIN = {
    "product_name": "Abamectin 1.8EC",
    "dose": "10",
    "unit": "ml/bình 16 lít",
    "pre_harvest_interval_days": 7,
    "kind_of_input": "Thuốc bảo vệ thực vật",
}
# Products without a lot in the demo (so "most", not all, have one).
WITHOUT_LOT = {"NS0004", "NS0022", "NS0035"}
VIOLATING = "NS0006"
CORRECTED = "NS0005"
EXPIRED = "NS0007"
# Standards each category's lots apply (Vietnamese national standards, and the producer's
# own standard where it has one).
STANDARDS = {
    "coffee": "TCVN 5250:2015; TCCS 01:2025/HTX-EAKIET",
    "fruit": "TCVN 11892-1:2017",
    "rice": "TCVN 11888:2017",
}
# Approximate farm positions for a few producers.
GPS = {"krongpac": ("12.693000", "108.300000"), "eakiet": ("12.805000", "108.107000")}


def _at(days_ago: int, hour: int = 7) -> datetime:
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def _plan(upc: str, category: str, unit: str) -> list[tuple]:
    """(days ago, hour, kind, details, location) for a product's lot, oldest first."""
    harvest = 20
    if category == "coffee":
        return [
            (
                200,
                7,
                K.GROWING_NOTE,
                {"notes": "Cây ra hoa đồng loạt sau đợt tưới đầu mùa."},
                "Lô 3",
            ),
            (
                150,
                7,
                K.INPUT_APPLIED,
                {**ORGANIC_FERTILISER, "applied_on": _at(150).date()},
                "Lô 3",
            ),
            (60, 8, K.INPUT_APPLIED, {**ABAMECTIN, "applied_on": _at(60).date()}, "Lô 3"),
            (harvest + 20, 6, K.HARVEST, {"quantity": "1200", "unit": "kg quả tươi"}, "Lô 3"),
            (
                harvest + 5,
                9,
                K.PROCESSING,
                {"method": "Phơi khô trên sân xi măng 15 ngày"},
                "Sân phơi HTX",
            ),
            (harvest, 9, K.PROCESSING, {"method": "Rang mộc 18 phút, xay vừa"}, "Xưởng rang"),
            (harvest - 2, 14, K.PACKING, {"quantity": "300", "unit": unit}, "Xưởng đóng gói"),
        ]
    if category == "fruit":
        spray_days_before = 3 if upc == VIOLATING else 12
        return [
            (120, 7, K.GROWING_NOTE, {"notes": "Cây ra hoa, tỉa bớt chùm hoa."}, "Vườn số 2"),
            (
                90,
                7,
                K.INPUT_APPLIED,
                {**ORGANIC_FERTILISER, "applied_on": _at(90).date()},
                "Vườn số 2",
            ),
            (
                harvest + spray_days_before,
                16,
                K.INPUT_APPLIED,
                {**ABAMECTIN, "applied_on": _at(harvest + spray_days_before).date()},
                "Vườn số 2",
            ),
            (harvest, 6, K.HARVEST, {"quantity": "850", "unit": "kg"}, "Vườn số 2"),
            (harvest - 1, 10, K.PACKING, {"quantity": "800", "unit": unit}, "Nhà sơ chế"),
        ]
    if category == "rice":
        return [
            (130, 6, K.PLANTING, {"variety": "ST25", "notes": "Gieo sạ vụ Đông Xuân."}, "Ruộng 5"),
            (
                100,
                7,
                K.INPUT_APPLIED,
                {**ORGANIC_FERTILISER, "unit": "kg/công", "applied_on": _at(100).date()},
                "Ruộng 5",
            ),
            (harvest + 10, 6, K.HARVEST, {"quantity": "6500", "unit": "kg lúa"}, "Ruộng 5"),
            (harvest + 3, 9, K.PROCESSING, {"method": "Sấy và xay xát, tách màu"}, "Nhà máy HTX"),
            (harvest, 14, K.PACKING, {"quantity": "1000", "unit": unit}, "Kho HTX"),
        ]
    return [
        (90, 7, K.GROWING_NOTE, {"notes": "Chăm sóc, làm cỏ bằng tay."}, ""),
        (harvest + 7, 6, K.HARVEST, {"quantity": "300", "unit": "kg"}, ""),
        (harvest + 2, 9, K.PROCESSING, {"method": "Sơ chế, phơi và phân loại"}, ""),
        (harvest, 14, K.PACKING, {"quantity": "200", "unit": unit}, ""),
    ]


@transaction.atomic
def seed(stdout) -> list[str]:
    User = get_user_model()
    farmer = User.objects.get(email__iexact=USERS["farmer"][0])
    operator = User.objects.get(email__iexact=USERS["operator"][0])
    products = {p.upc: p for p in Product.objects.filter(upc__in=[row[0] for row in PRODUCTS])}
    created = 0
    lots = {}
    for upc, producer_key, category, _title, unit, *_rest in PRODUCTS:
        if upc in WITHOUT_LOT or upc not in products:
            continue
        product = products[upc]
        code = f"DEMO-{upc}"
        lot = Lot.objects.filter(product=product, code=code).first()
        if lot is not None:
            lots[upc] = lot
            continue
        record = product.stockrecords.select_related("partner__producer_profile").first()
        producer = record.partner.producer_profile
        by = farmer if producer_key == FARMER_SHOP else operator
        plan = _plan(upc, category, unit)
        latitude, longitude = GPS.get(producer_key, (None, None))
        produced = _at(plan[-1][0]).date()
        if upc == EXPIRED:
            expiry = produced + timedelta(days=10)  # past: the trace page says so
        else:
            expiry = produced + timedelta(days=365 if category != "fruit" else 30)
        lot = create_lot(
            product=product,
            producer=producer,
            by=by,
            code=code,
            quantity=Decimal(plan[-1][3].get("quantity", "100")),
            unit=unit,
            province_code=producer.province_code,
            commune_code=producer.commune_code,
            latitude=Decimal(latitude) if latitude else None,
            longitude=Decimal(longitude) if longitude else None,
            production_date=produced,
            expiry_date=expiry,
            standards=STANDARDS.get(category, ""),
            brand=PRODUCERS[producer_key][0] if category in STANDARDS else "",
        )
        for days_ago, hour, kind, details, location in plan:
            details = {
                k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in details.items()
            }
            event = record_event(
                lot=lot,
                by=by,
                kind=kind,
                event_time=_at(days_ago, hour),
                details=details,
                location=location or PRODUCERS[producer_key][4],
                # The Monthong lot's harvest falls inside Abamectin's interval: recorded
                # as a farmer would, after the warning (then it waits for review).
                confirm_pre_harvest=upc == VIOLATING,
            )
            if upc == CORRECTED and kind == K.HARVEST:
                record_event(
                    lot=lot,
                    by=by,
                    kind=K.CORRECTION,
                    event_time=_at(days_ago - 1, 18),
                    corrects=event,
                    details={"reason": "Cân lại sau khi loại trái non", "quantity": "820"},
                    location=location,
                )
        lots[upc] = lot
        created += 1

    lines = [f"  {len(lots)} lots with farm events ({created} new)"]
    if CORRECTED in lots:
        lines.append(f"  Trace     http://127.0.0.1:8000/t/{lots[CORRECTED].short_code}/")
    if VIOLATING in lots:
        lines.append(
            f"  Trace     http://127.0.0.1:8000/t/{lots[VIOLATING].short_code}/"
            "  (harvested inside the pre-harvest interval, waiting for review: not sold)"
        )
    if EXPIRED in lots:
        lines.append(
            f"  Trace     http://127.0.0.1:8000/t/{lots[EXPIRED].short_code}/"
            "  (past its expiry date: not sold)"
        )
    lines += demo_epcis.seed()
    lines += seed_outlook(farmer=farmer, operator=operator)
    return lines


# Plantings not harvested yet, with an expected harvest date and yield, so the harvest
# outlook (traceability.outlook, /trien-vong-thu-hoach/) shows the coming weeks: (product,
# lot code, days since planting, expected harvest in days from today, yield, its unit).
# Products whose demo lot no test looks up by product alone (each gets a second lot).
OUTLOOK = (
    ("8936045000014", "VU-CULI", 200, 30, "400", "gói"),  # Ea Kiết's Culi, by the pack
    ("NS0031", "VU-BO-034", 150, 17, "2.5", "tấn"),  # 2 500 kg of avocado in 3 weeks
    ("NS0036", "VU-MAN-HAU-A", 90, 10, "8", "tạ"),  # 800 kg of plums in about 2 weeks
    ("NS0036", "VU-MAN-HAU-B", 80, 38, "15", "tạ"),  # 1 500 kg more in about 6 weeks
)


def seed_outlook(*, farmer, operator) -> list[str]:
    """The plantings of OUTLOOK (idempotent: a lot is keyed by product and code)."""
    products = {
        p.upc: p
        for p in Product.objects.filter(upc__in={row[0] for row in OUTLOOK}).prefetch_related(
            "stockrecords__partner__producer_profile"
        )
    }
    count = 0
    for upc, code, planted_days_ago, harvest_in, quantity, unit in OUTLOOK:
        product = products.get(upc)
        if product is None or Lot.objects.filter(product=product, code=code).exists():
            continue
        producer = product.stockrecords.all()[0].partner.producer_profile
        by = farmer if producer.partner.users.filter(pk=farmer.pk).exists() else operator
        lot = create_lot(
            product=product,
            producer=producer,
            by=by,
            code=code,
            quantity=Decimal(quantity),
            unit=unit,
            province_code=producer.province_code,
            commune_code=producer.commune_code,
            production_date=_at(planted_days_ago).date(),
        )
        record_event(
            lot=lot,
            by=by,
            kind=K.PLANTING,
            event_time=_at(planted_days_ago, 7),
            details={
                "notes": "Vụ mới, chưa thu hoạch.",
                "expected_harvest": (timezone.localdate() + timedelta(days=harvest_in)).isoformat(),
                "expected_quantity": quantity,
                "expected_unit": unit,
            },
        )
        count += 1
    return [f"  Outlook   {len(OUTLOOK)} plantings with an expected harvest ({count} new)"]
