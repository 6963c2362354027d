"""Demo certificates: every kind (OCOP 3★/4★/5★, VietGAP, GlobalGAP, organic) and every
state (verified, waiting, rejected, expired, and one verified that expires within days).

Runs after marketplace.demo.base.seed (producers and products exist) and before
farmers.demo.seed. Idempotent: a certificate is keyed by producer + kind + number and
left alone once it exists, so running it twice changes nothing. Written through the
services (submit, verify, reject); only the expired one, whose dates are in the past,
is written directly, since submitting an expired certificate is refused.
"""

import datetime
import io

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from oscar.core.loading import get_model
from PIL import Image, ImageDraw

from marketplace.certificates.services import (
    add_months,
    reject_certificate,
    submit_certificate,
    verify_certificate,
)
from marketplace.demo.base import PRODUCERS, USERS
from marketplace.models import Certificate, ProducerProfile

Product = get_model("catalogue", "Product")

OCOP, VIETGAP, GLOBALGAP, ORGANIC = (
    Certificate.Kind.OCOP,
    Certificate.Kind.VIETGAP,
    Certificate.Kind.GLOBALGAP,
    Certificate.Kind.ORGANIC,
)
VERIFIED, PENDING, REJECTED, EXPIRED, EXPIRING = (
    "verified",
    "pending",
    "rejected",
    "expired",
    "expiring",
)

# producer, kind, stars, number, issuer, scope, products (UPC; none = whole shop),
# state, (months valid, days since issue), rejection reason
# fmt: off
CERTIFICATES = [
    ("eakiet", OCOP, 4, "OCOP-DLK-2024-0127", "UBND tỉnh Đắk Lắk",
     "Cà phê rang xay Robusta Buôn Ma Thuột", ["NS0001"], VERIFIED, (36, 420), ""),
    ("chuse", OCOP, 4, "OCOP-GL-2024-0315", "UBND tỉnh Gia Lai",
     "Hồ tiêu đen Chư Sê", ["NS0009"], VERIFIED, (36, 300), ""),
    ("st25", OCOP, 5, "OCOP5-2024-0009", "Bộ Nông nghiệp và Môi trường",
     "Gạo ST25 — sản phẩm OCOP quốc gia", ["NS0025"], VERIFIED, (36, 250), ""),
    ("ngoclinh", OCOP, 5, "OCOP5-2025-0021", "Bộ Nông nghiệp và Môi trường",
     "Sâm Ngọc Linh tươi — sản phẩm OCOP quốc gia", ["NS0013"], VERIFIED, (36, 120), ""),
    ("tancuong", OCOP, 3, "OCOP-TN-2025-0412", "UBND tỉnh Thái Nguyên",
     "Chè Tân Cương đặc biệt", ["NS0023"], VERIFIED, (36, 90), ""),
    ("chodon", OCOP, 3, "OCOP-TN-2024-0588", "UBND tỉnh Thái Nguyên",
     "Hồng sấy dẻo Bắc Kạn", ["NS0020"], VERIFIED, (36, 500), ""),
    ("dalat", VIETGAP, None, "VietGAP-TT-21-05-68-0112", "Trung tâm Chứng nhận Phù hợp QUACERT",
     "Dâu tây, bơ — TCVN 11892-1:2017 (trồng trọt)", ["NS0030", "NS0031"], VERIFIED,
     (24, 180), ""),
    ("krongpac", VIETGAP, None, "VietGAP-TT-19-02-66-0347",
     "Công ty CP Chứng nhận và Giám định VinaCert",
     "Sầu riêng, bơ — TCVN 11892-1:2017 (trồng trọt), 4 ha", ["NS0005", "NS0006", "NS0007"],
     VERIFIED, (24, 240), ""),
    ("eakiet", GLOBALGAP, None, "4063061001238", "Control Union Certifications",
     "GLOBALG.A.P. IFA — cà phê, Option 2 (nhóm nông hộ)", [], VERIFIED, (12, 60), ""),
    ("ngoclinh", ORGANIC, None, "HC-TCVN11041-2025-0056", "Trung tâm Chứng nhận Phù hợp QUACERT",
     "Sản xuất hữu cơ theo TCVN 11041-2:2017, vườn sâm dưới tán rừng", [], VERIFIED,
     (24, 150), ""),
    ("hungyen", VIETGAP, None, "VietGAP-TT-15-03-33-0091", "Trung tâm Chứng nhận Phù hợp QUACERT",
     "Nhãn lồng — TCVN 11892-1:2017 (trồng trọt)", ["NS0033"], EXPIRING, (24, 0), ""),
    ("chodon", VIETGAP, None, "VietGAP-TT-22-07-19-0023",
     "Trung tâm Kiểm nghiệm và Chứng nhận chất lượng Nông Lâm Thủy sản",
     "Hồng không hạt — TCVN 11892-1:2017 (trồng trọt)", ["NS0019"], PENDING, (24, 20), ""),
    ("mocchau", OCOP, 4, "OCOP-SL-2025-0077", "UBND tỉnh Sơn La",
     "Chè Shan tuyết Mộc Châu", ["NS0037"], REJECTED, (36, 45),
     "Bản quét bị mờ, không đọc được số quyết định công nhận. "
     "Vui lòng tải lên bản quét rõ nét hoặc ảnh chụp thẳng giấy chứng nhận."),
    ("trabong", OCOP, 3, "OCOP-QNg-2021-0140", "UBND tỉnh Quảng Ngãi",
     "Quế Trà Bồng thanh", ["NS0017"], EXPIRED, (36, None), ""),
]
# fmt: on
EXPIRING_IN_DAYS = 12
EXPIRED_FROM = datetime.date(2021, 6, 15)


def draw_scan(seed: str) -> ContentFile:
    """A small picture standing in for a scanned paper certificate: frame, lines, seal."""
    image = Image.new("RGB", (420, 300), (252, 250, 242))
    draw = ImageDraw.Draw(image)
    draw.rectangle((8, 8, 411, 291), outline=(176, 32, 32), width=4)
    draw.rectangle((18, 18, 401, 281), outline=(200, 160, 60), width=2)
    shift = sum(map(ord, seed)) % 40
    for row in range(6):
        y = 70 + row * 26
        draw.line((50, y, 370 - (row * 17 + shift) % 90, y), fill=(90, 90, 90), width=3)
    draw.ellipse((300, 200, 370, 270), outline=(200, 30, 30), width=5)
    draw.ellipse((318, 218, 352, 252), fill=(200, 30, 30))
    out = io.BytesIO()
    image.save(out, "PNG")
    return ContentFile(out.getvalue(), name=f"{seed}.png")


def _dates(state, months, days_since_issue, today):
    if state == EXPIRED:
        return EXPIRED_FROM, add_months(EXPIRED_FROM, months) - datetime.timedelta(days=1)
    if state == EXPIRING:
        until = today + datetime.timedelta(days=EXPIRING_IN_DAYS)
        return add_months(until, -months) + datetime.timedelta(days=1), until
    start = today - datetime.timedelta(days=days_since_issue)
    return start, add_months(start, months) - datetime.timedelta(days=1)


@transaction.atomic
def seed(stdout) -> list[str]:
    today = timezone.localdate()
    operator = get_user_model().objects.get(email__iexact=USERS["operator"][0])
    producers = {p.partner.name: p for p in ProducerProfile.objects.select_related("partner")}
    products = {p.upc: p for p in Product.objects.filter(upc__startswith="NS")}
    created = 0
    for row in CERTIFICATES:
        key, kind, stars, number, issuer, scope, upcs, state, (months, since), reason = row
        producer = producers[PRODUCERS[key][0]]
        if Certificate.objects.filter(producer=producer, kind=kind, number=number).exists():
            continue
        valid_from, valid_until = _dates(state, months, since, today)
        covered = [products[upc] for upc in upcs]
        if state == EXPIRED:
            certificate = Certificate.objects.create(
                producer=producer,
                kind=kind,
                ocop_stars=stars,
                number=number,
                issuer=issuer,
                scope=scope,
                valid_from=valid_from,
                valid_until=valid_until,
                status=Certificate.Status.EXPIRED,
                verified_by=operator,
                verified_at=timezone.make_aware(
                    datetime.datetime.combine(valid_from, datetime.time(9))
                ),
            )
            certificate.products.set(covered)
        else:
            certificate = submit_certificate(
                producer=producer,
                submitted_by=producer.partner.users.order_by("pk").first() or operator,
                kind=kind,
                ocop_stars=stars,
                number=number,
                issuer=issuer,
                scope=scope,
                valid_from=valid_from,
                valid_until=valid_until,
                products=covered,
                scan=draw_scan(f"{key}-{kind}"),
            )
            if state in (VERIFIED, EXPIRING):
                verify_certificate(certificate=certificate, by=operator)
            elif state == REJECTED:
                reject_certificate(certificate=certificate, by=operator, reason=reason)
        created += 1
    counts = {
        status: Certificate.objects.filter(status=status).count()
        for status in Certificate.Status.values
    }
    return [
        f"  {sum(counts.values())} certificates ({created} new): {counts['verified']} verified, "
        f"{counts['pending']} waiting, {counts['rejected']} rejected, {counts['expired']} expired"
    ]
