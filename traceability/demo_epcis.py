"""Demo data for the EPCIS export (traceability.epcis), seeded by traceability.demo.seed:

- packing into a new lot: the Gia Lai Robusta (8936045000021, a real GTIN) of the Chư Sê
  pepper cooperative is roasted in bulk (lot DEMO-8936045000021) and 2 tạ of it are
  packed into a new lot, DEMO-8936045000021-G, which is then shipped. The export shows a
  TransformationEvent (input the bulk lot, output 200 kg of the new lot: tạ = 100 kg);
- a GLN for the Ea Kiết cooperative, so its lots' bizLocation is a GS1 location
  (https://id.gs1.org/414/…), while the other producers have a location of ours.

Idempotent: the new lot is keyed by product + code and left alone once it exists; the GLN
is only set where none is.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from marketplace.demo.base import PRODUCERS, USERS
from marketplace.models import ProducerProfile

from .models import FarmEvent, Lot
from .services import create_lot, record_event

K = FarmEvent.Kind
BULK_LOT = "DEMO-8936045000021"
PACKED_LOT = BULK_LOT + "-G"
GLN_OF = {"eakiet": "8936045000106"}  # GS1 Vietnam prefix 893; check digit 6


def _at(days_ago: int, hour: int) -> datetime:
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def seed() -> list[str]:
    lines = []
    for key, gln in GLN_OF.items():
        ProducerProfile.objects.filter(partner__name=PRODUCERS[key][0], gln="").update(gln=gln)
    bulk = Lot.objects.select_related("product", "producer").filter(code=BULK_LOT).first()
    if bulk is None:
        return lines
    packed = Lot.objects.filter(product=bulk.product, code=PACKED_LOT).first()
    if packed is None:
        operator = get_user_model().objects.get(email__iexact=USERS["operator"][0])
        producer = bulk.producer
        packed = create_lot(
            product=bulk.product,
            producer=producer,
            by=operator,
            code=PACKED_LOT,
            quantity=Decimal("400"),
            unit="gói",
            province_code=producer.province_code,
            commune_code=producer.commune_code,
            production_date=_at(17, 9).date(),
            expiry_date=_at(17, 9).date() + timedelta(days=365),
        )
        place = PRODUCERS["chuse"][4]
        record_event(
            lot=bulk,
            by=operator,
            kind=K.PACKING,
            event_time=_at(17, 9),
            details={"output_lot": packed.pk, "quantity": "2", "unit": "tạ"},
            location=place,
        )
        record_event(
            lot=packed,
            by=operator,
            kind=K.SHIPPING,
            event_time=_at(16, 8),
            details={"carrier": "Bưu điện Gia Lai", "destination": "Thành phố Hồ Chí Minh"},
            location=place,
        )
    lines.append(f"  Packing   lot {BULK_LOT} → lot {PACKED_LOT} (EPCIS TransformationEvent)")
    return lines
