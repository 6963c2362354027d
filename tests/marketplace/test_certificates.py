"""Certificates: a producer submits one, the operator or association staff verify it,
buyers see a badge only while it is verified and valid, and it expires on its own.

Bad input is tested as carefully as good input: a clear message, nothing saved, never
a 500. Every page is tested for every role (tests/farmers/test_certificate_scope.py has
the association staff pages).
"""

import datetime
import html
import os

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.template import Context, Template
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from oscar.core.loading import get_model

from farmers.models import Organisation
from farmers.services import assign_staff, upsert_organisation
from marketplace.certificates import services
from marketplace.core import geo
from marketplace.core.validators import validate_ggn
from marketplace.demo import certificates as demo_certificates
from marketplace.demo.base import DEMO_PASSWORD, PRODUCERS, ensure_user
from marketplace.models import Certificate, ProducerProfile, SearchEntry
from marketplace.shops.services import open_producer_shop

Product = get_model("catalogue", "Product")

TODAY = timezone.localdate
DAY = datetime.timedelta(days=1)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

BUYER = "nguoimua@nongsan.test"
FARMER = "nongdan@nongsan.test"  # owns the "krongpac" shop
NEIGHBOUR_BRANCH = "canbohoi@nongsan.test"  # branch of Ea Kiết: not Krông Pắc
POST_OFFICE = "buudien@nongsan.test"
OPERATOR = "quantri@nongsan.test"
OTHER_FARMER = "nongdan.dalat@nongsan.test"
STAFF_IN_SCOPE = "canbo.krongpac@nongsan.test"
STAFF_OUT_OF_SCOPE = "canbo.mocchau@nongsan.test"

ROLES = (
    "anonymous",
    "buyer",
    "owner",
    "other_farmer",
    "staff_in_scope",
    "staff_out_of_scope",
    "neighbour_branch",
    "post_office",
    "operator",
)
EMAILS = {
    "buyer": BUYER,
    "owner": FARMER,
    "other_farmer": OTHER_FARMER,
    "staff_in_scope": STAFF_IN_SCOPE,
    "staff_out_of_scope": STAFF_OUT_OF_SCOPE,
    "neighbour_branch": NEIGHBOUR_BRANCH,
    "post_office": POST_OFFICE,
    "operator": OPERATOR,
}


# --- Helpers (also used by tests/farmers/test_certificate_scope.py) ----------------------


def producer(key: str) -> ProducerProfile:
    return ProducerProfile.objects.select_related("partner").get(partner__name=PRODUCERS[key][0])


def product(upc: str):
    return Product.objects.get(upc=upc)


def user(email: str):
    return get_user_model().objects.get(email=email)


def sign_in(client, email):
    """Sign in through the storefront's own form, as a person would."""
    response = client.post(
        "/accounts/login/",
        {"login-username": email, "login-password": DEMO_PASSWORD, "login_submit": "1"},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def submit(**overrides) -> Certificate:
    """A pending OCOP 4★ of the farmer's shop (krongpac) for its durian, valid a year."""
    kwargs = {
        "producer": producer("krongpac"),
        "submitted_by": user(FARMER),
        "kind": Certificate.Kind.OCOP,
        "ocop_stars": 4,
        "number": "OCOP-DLK-2026-0001",
        "issuer": "UBND tỉnh Đắk Lắk",
        "scope": "Sầu riêng Ri6",
        "valid_from": TODAY() - 10 * DAY,
        "valid_until": TODAY() + 365 * DAY,
        "products": [product("NS0005")],
    }
    kwargs.update(overrides)
    return services.submit_certificate(**kwargs)


def verified(**overrides) -> Certificate:
    certificate = submit(**overrides)
    return services.verify_certificate(certificate=certificate, by=user(OPERATOR))


def short_date(day) -> str:
    """A date as the pages show it in the active language (13/11/2026)."""
    return date_format(day, "SHORT_DATE_FORMAT")


def entry(upc: str) -> SearchEntry:
    return SearchEntry.objects.get(product__upc=upc)


def messages_of(excinfo) -> dict:
    return {field: [str(m) for m in errors] for field, errors in excinfo.value.message_dict.items()}


def pdf_upload(name="giay-chung-nhan.pdf", content=PDF, content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def png_bytes() -> bytes:
    return demo_certificates.draw_scan("test").read()


class People:
    """One signed-in client per role, created on first use."""

    def __init__(self):
        self._clients = {}

    def client(self, role: str) -> Client:
        if role not in self._clients:
            client = Client()
            if role != "anonymous":
                sign_in(client, EMAILS[role])
            self._clients[role] = client
        return self._clients[role]

    def codes(self, method: str, url: str, data=None, roles=ROLES) -> dict:
        result = {}
        for role in roles:
            client = self.client(role)
            response = client.get(url) if method == "get" else client.post(url, data or {})
            result[role] = response.status_code
            if role == "anonymous" and response.status_code == 302:
                assert response["Location"].startswith("/accounts/login/"), response["Location"]
        return result


def make_people() -> People:
    """The demo roles, plus a second farmer with a shop of their own, association staff
    whose branch covers the farmer's commune, and staff of a branch in another province."""
    other = ensure_user(OTHER_FARMER, "Bình", "Lê Thị")
    open_producer_shop(
        name="Hộ bà Lê Thị Bình",
        kind=ProducerProfile.Kind.HOUSEHOLD,
        province_code=68,
        commune_code=geo.find_commune(68, "Xuân Trường - Đà Lạt"),
        owner=other,
    )
    assign_staff(
        user=ensure_user(STAFF_IN_SCOPE, "Hoa", "Y"),
        organisation=Organisation.objects.get(name="Chi hội Nông dân xã Krông Pắc"),
    )
    far_branch = upsert_organisation(
        name="Chi hội Nông dân xã Mộc Châu",
        kind=Organisation.Kind.ASSOCIATION_BRANCH,
        province_code=14,
        commune_code=geo.find_commune(14, "Mộc Châu"),
    )
    assign_staff(user=ensure_user(STAFF_OUT_OF_SCOPE, "Tú", "Lò Văn"), organisation=far_branch)
    return People()


@pytest.fixture
def people(demo):
    return make_people()


# --- Database constraints ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "stars", "valid_from", "valid_until"),
    [
        ("ocop", 6, datetime.date(2025, 1, 1), datetime.date(2027, 1, 1)),
        ("ocop", 2, datetime.date(2025, 1, 1), datetime.date(2027, 1, 1)),
        ("ocop", None, datetime.date(2025, 1, 1), datetime.date(2027, 1, 1)),
        ("vietgap", 3, datetime.date(2025, 1, 1), datetime.date(2026, 1, 1)),
        ("vietgap", None, datetime.date(2026, 1, 1), datetime.date(2025, 1, 1)),
        ("organic", None, datetime.date(2026, 1, 1), datetime.date(2026, 1, 1)),
    ],
    ids=[
        "ocop-6-stars",
        "ocop-2-stars",
        "ocop-without-stars",
        "vietgap-with-stars",
        "until-before-from",
        "until-equals-from",
    ],
)
def test_database_refuses_impossible_certificates(demo, kind, stars, valid_from, valid_until):
    with pytest.raises(IntegrityError), transaction.atomic():
        Certificate.objects.create(
            producer=producer("krongpac"),
            kind=kind,
            ocop_stars=stars,
            number="X-1",
            issuer="UBND tỉnh Đắk Lắk",
            valid_from=valid_from,
            valid_until=valid_until,
        )
    assert not Certificate.objects.filter(number="X-1").exists()


@pytest.mark.django_db
def test_database_refuses_the_same_number_twice_for_a_producer(demo):
    submit()
    with pytest.raises(IntegrityError), transaction.atomic():
        Certificate.objects.create(
            producer=producer("krongpac"),
            kind="ocop",
            ocop_stars=4,
            number="OCOP-DLK-2026-0001",
            issuer="UBND tỉnh Đắk Lắk",
            valid_from=TODAY(),
            valid_until=TODAY() + DAY,
        )


# --- Submission ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_submitted_certificate_waits_and_earns_no_badge_yet(demo):
    certificate = submit()
    assert certificate.status == Certificate.Status.PENDING
    assert certificate.submitted_by == user(FARMER)
    assert list(certificate.products.all()) == [product("NS0005")]
    assert entry("NS0005").has_ocop is False
    assert "ocop" not in {b["kind"] for b in entry("NS0005").badges}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("number", "accepted", "message"),
    [
        ("4063061001238", True, None),
        (" 4063061 001238 ", True, None),
        ("4063061001237", False, "The last digit (check digit) of this GGN is wrong."),
        ("406306100123", False, "A GlobalGAP number (GGN) has 13 digits."),
        ("40630610012380", False, "A GlobalGAP number (GGN) has 13 digits."),
        ("40630610012AB", False, "A GlobalGAP number (GGN) has 13 digits."),
    ],
    ids=["valid", "valid-with-spaces", "wrong-check-digit", "12-digits", "14-digits", "letters"],
)
def test_globalgap_numbers_are_checked(demo, number, accepted, message):
    before = Certificate.objects.count()
    kwargs = {
        "kind": Certificate.Kind.GLOBALGAP,
        "ocop_stars": None,
        "number": number,
        "issuer": "Control Union Certifications",
    }
    if accepted:
        certificate = submit(**kwargs)
        assert certificate.number == "4063061001238"
        validate_ggn(certificate.number)
        assert Certificate.objects.count() == before + 1
    else:
        with pytest.raises(ValidationError) as excinfo:
            submit(**kwargs)
        assert messages_of(excinfo) == {"number": [gettext(message)]}
        assert Certificate.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"ocop_stars": None}, "ocop_stars", "An OCOP certificate has 3, 4 or 5 stars."),
        ({"ocop_stars": 6}, "ocop_stars", "An OCOP certificate has 3, 4 or 5 stars."),
        ({"ocop_stars": "nhiều"}, "ocop_stars", "An OCOP certificate has 3, 4 or 5 stars."),
        (
            {"kind": "vietgap", "ocop_stars": 4, "number": "VG-1"},
            "ocop_stars",
            "Only OCOP certificates have stars.",
        ),
        (
            {"valid_from": TODAY() + 10 * DAY, "valid_until": TODAY() + 5 * DAY},
            "valid_until",
            "The end of validity must be after its start.",
        ),
        (
            {"valid_from": TODAY() - 10 * DAY, "valid_until": TODAY() - 10 * DAY},
            "valid_until",
            "The end of validity must be after its start.",
        ),
        (
            {"valid_from": TODAY() - DAY, "valid_until": TODAY() - DAY + 3 * 366 * DAY},
            "valid_until",
            "An OCOP certificate is valid for at most 36 months.",
        ),
        (
            {
                "kind": "vietgap",
                "ocop_stars": None,
                "number": "VG-1",
                "valid_from": TODAY() - DAY,
                "valid_until": TODAY() - DAY + 2 * 366 * DAY,
            },
            "valid_until",
            "A VietGAP certificate is valid for at most 2 years.",
        ),
        ({"kind": "halal"}, "kind", "Choose the type of certificate."),
        ({"number": "   "}, "number", "Enter the certificate number."),
        ({"issuer": ""}, "issuer", "Enter who issued the certificate."),
        ({"valid_from": None}, "valid_from", "Enter the date the certificate is valid from."),
        ({"products": ["NS0009"]}, "products", "Choose only products of your own shop."),
        ({"products": ["not-a-product"]}, "products", "Choose only products of your own shop."),
        (
            {"issuer": "UBND " * 41},
            "issuer",
            "Giá trị này chỉ có tối đa 200 kí tự (hiện có 204)",  # Django's own message
        ),
    ],
    ids=[
        "ocop-without-stars",
        "ocop-6-stars",
        "ocop-stars-not-a-number",
        "vietgap-with-stars",
        "until-before-from",
        "until-equals-from",
        "ocop-over-36-months",
        "vietgap-over-2-years",
        "unknown-kind",
        "blank-number",
        "blank-issuer",
        "no-start-date",
        "another-producers-product",
        "garbage-product",
        "issuer-too-long",
    ],
)
def test_a_wrong_submission_says_what_is_wrong_and_saves_nothing(demo, overrides, field, message):
    if overrides.get("products") == ["NS0009"]:
        overrides = {**overrides, "products": [product("NS0009")]}  # Chư Sê's pepper
    before = Certificate.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        submit(**overrides)
    assert gettext(message) in messages_of(excinfo)[field]
    assert Certificate.objects.count() == before


@pytest.mark.django_db
def test_validity_limits_are_inclusive(demo):
    start = TODAY() - 30 * DAY
    ocop = submit(valid_from=start, valid_until=services.add_months(start, 36))
    vietgap = submit(
        kind="vietgap",
        ocop_stars=None,
        number="VG-2",
        valid_from=start,
        valid_until=services.add_months(start, 24),
    )
    assert ocop.status == vietgap.status == Certificate.Status.PENDING
    assert services.add_months(datetime.date(2024, 1, 31), 1) == datetime.date(2024, 2, 29)


@pytest.mark.django_db
def test_an_already_expired_certificate_cannot_be_submitted(demo):
    with pytest.raises(ValidationError) as excinfo:
        submit(valid_from=TODAY() - 400 * DAY, valid_until=TODAY() - DAY)
    assert list(messages_of(excinfo)) == ["valid_until"]
    assert not Certificate.objects.filter(number="OCOP-DLK-2026-0001").exists()


@pytest.mark.django_db
def test_the_same_number_twice_is_refused_with_a_message_not_a_crash(demo):
    submit()
    with pytest.raises(ValidationError) as excinfo:
        submit(products=[product("NS0006")])
    expected = gettext(
        "You have already submitted a %(kind)s certificate with number %(number)s."
    ) % {"kind": "OCOP", "number": "OCOP-DLK-2026-0001"}
    assert messages_of(excinfo) == {"number": [expected]}
    assert Certificate.objects.filter(number="OCOP-DLK-2026-0001").count() == 1
    # The same number under another kind, or for another producer, is a different paper.
    submit(kind="vietgap", ocop_stars=None)
    submit(producer=producer("eakiet"), products=[product("NS0001")])


@pytest.mark.django_db
def test_a_pdf_scan_is_stored_under_a_server_generated_name(demo):
    certificate = submit(scan=pdf_upload(name="../../etc/passwd.pdf"))
    name = os.path.basename(certificate.scan.name)
    assert name.endswith(".pdf") and len(name) == 32 + 4
    assert "passwd" not in certificate.scan.name
    with certificate.scan.open("rb") as handle:
        assert handle.read() == PDF


@pytest.mark.django_db
def test_a_photo_scan_is_re_encoded(demo):
    certificate = submit(scan=SimpleUploadedFile("anh.png", png_bytes(), "image/png"))
    assert certificate.scan.name.endswith(".jpg")
    assert "anh" not in os.path.basename(certificate.scan.name)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "content_type", "message", "params"),
    [
        (
            "anh.jpg",
            b"day khong phai la anh",
            "image/jpeg",
            "This file is neither a PDF nor a photo we can read. "
            "Please upload a PDF, JPEG, PNG or WebP file.",
            None,
        ),
        (
            "chung-nhan.pdf",
            b"<html>not a pdf</html>",
            "application/pdf",
            "This file is not a valid PDF document. Please upload the PDF again, or a photo.",
            None,
        ),
        (
            "to.pdf",
            PDF + b"0" * (10 * 2**20),
            "application/pdf",
            "The file is too large: at most %(mb)s MB.",
            {"mb": 10},
        ),
    ],
    ids=["text-named-jpg", "pdf-named-non-pdf", "over-10-mb"],
)
def test_a_bad_scan_is_refused_and_nothing_is_saved(
    demo, name, content, content_type, message, params
):
    before = Certificate.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        submit(scan=SimpleUploadedFile(name, content, content_type=content_type))
    expected = gettext(message) % params if params else gettext(message)
    assert messages_of(excinfo) == {"scan": [expected]}
    assert Certificate.objects.count() == before


# --- Verification flow --------------------------------------------------------------------


@pytest.mark.django_db
def test_verifying_gives_the_product_its_badge(demo):
    certificate = submit()
    operator = user(OPERATOR)
    services.verify_certificate(certificate=certificate, by=operator)
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VERIFIED
    assert certificate.verified_by == operator
    assert certificate.verified_at is not None
    row = entry("NS0005")
    assert row.has_ocop is True and row.ocop_stars == 4
    assert {"id": certificate.pk, "kind": "ocop", "label": "OCOP 4★"} in row.badges
    # Only the product the certificate names: the shop's avocado gets no OCOP badge.
    assert entry("NS0007").has_ocop is False


@pytest.mark.django_db
def test_only_a_pending_certificate_can_be_verified(demo):
    certificate = verified()
    with pytest.raises(ValidationError):
        services.verify_certificate(certificate=certificate, by=user(OPERATOR))
    rejected = services.reject_certificate(
        certificate=submit(number="OCOP-2"), by=user(OPERATOR), reason="Sai số quyết định"
    )
    with pytest.raises(ValidationError):
        services.verify_certificate(certificate=rejected, by=user(OPERATOR))
    rejected.refresh_from_db()
    assert rejected.status == Certificate.Status.REJECTED


@pytest.mark.django_db
def test_an_expired_pending_certificate_cannot_be_verified(demo):
    certificate = Certificate.objects.create(
        producer=producer("krongpac"),
        kind="ocop",
        ocop_stars=3,
        number="OCOP-OLD",
        issuer="UBND tỉnh Đắk Lắk",
        valid_from=TODAY() - 800 * DAY,
        valid_until=TODAY() - DAY,
    )
    with pytest.raises(ValidationError) as excinfo:
        services.verify_certificate(certificate=certificate, by=user(OPERATOR))
    assert excinfo.value.code == "expired"
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.PENDING
    assert certificate.verified_by is None


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   ", None])
def test_rejecting_needs_a_reason(demo, reason):
    certificate = submit()
    with pytest.raises(ValidationError) as excinfo:
        services.reject_certificate(certificate=certificate, by=user(OPERATOR), reason=reason)
    assert "reason" in excinfo.value.message_dict
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.PENDING
    assert certificate.status_reason == ""


@pytest.mark.django_db
def test_rejecting_a_verified_certificate_takes_its_badge_away(demo):
    certificate = verified()
    assert entry("NS0005").has_ocop is True
    services.reject_certificate(
        certificate=certificate, by=user(OPERATOR), reason="  Quyết định đã bị thu hồi.  "
    )
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.REJECTED
    assert certificate.status_reason == "Quyết định đã bị thu hồi."
    assert entry("NS0005").has_ocop is False
    with pytest.raises(ValidationError):  # rejected is final
        services.reject_certificate(certificate=certificate, by=user(OPERATOR), reason="lần nữa")


@pytest.mark.django_db
def test_only_people_who_may_verify_can_call_the_services(people):
    certificate = submit()
    for email in (BUYER, FARMER, POST_OFFICE, NEIGHBOUR_BRANCH, STAFF_OUT_OF_SCOPE):
        with pytest.raises(PermissionDenied):
            services.verify_certificate(certificate=certificate, by=user(email))
        with pytest.raises(PermissionDenied):
            services.reject_certificate(certificate=certificate, by=user(email), reason="x")
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.PENDING
    services.verify_certificate(certificate=certificate, by=user(STAFF_IN_SCOPE))
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VERIFIED


# --- Expiry ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_expired_certificate_loses_its_badge_everywhere(client, demo):
    certificate = verified(valid_from=TODAY() - 300 * DAY, valid_until=TODAY())
    durian = product("NS0005")
    assert entry("NS0005").has_ocop is True
    page = client.get(durian.get_absolute_url()).content.decode()
    assert f'href="/chung-nhan/{certificate.pk}/"' in page

    # The night after its last valid day:
    assert services.expire_certificates(today=TODAY() + DAY) == 1
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.EXPIRED
    row = entry("NS0005")
    assert row.has_ocop is False and row.ocop_stars is None
    assert [b for b in row.badges if b["kind"] == "ocop"] == []
    page = client.get(durian.get_absolute_url()).content.decode()
    assert "nongsan-badge-ocop" not in page
    assert f"/chung-nhan/{certificate.pk}/" not in page
    # The public page is gone for buyers too.
    assert client.get(f"/chung-nhan/{certificate.pk}/").status_code == 404


@pytest.mark.django_db
def test_a_certificate_naming_no_product_expires_for_the_whole_shop(demo):
    verified(products=[], valid_from=TODAY() - 300 * DAY, valid_until=TODAY())
    shop = ["NS0005", "NS0006", "NS0007", "NS0008"]
    assert all(entry(upc).has_ocop for upc in shop)
    assert services.expire_certificates(today=TODAY() + DAY) == 1
    assert not any(entry(upc).has_ocop for upc in shop)


@pytest.mark.django_db
def test_expiry_is_idempotent_and_leaves_valid_certificates_alone(demo):
    ending = verified(valid_from=TODAY() - 300 * DAY, valid_until=TODAY())
    lasting = verified(number="OCOP-2", products=[product("NS0006")])
    pending = submit(number="OCOP-3", valid_until=TODAY() + 30 * DAY)
    assert services.expire_certificates() == 0  # still valid today
    assert services.expire_certificates(today=TODAY() + DAY) == 1
    snapshot = {c.pk: (c.status, c.updated) for c in Certificate.objects.all()}
    assert services.expire_certificates(today=TODAY() + DAY) == 0
    assert {c.pk: (c.status, c.updated) for c in Certificate.objects.all()} == snapshot
    statuses = dict(
        Certificate.objects.filter(pk__in=[ending.pk, lasting.pk, pending.pk]).values_list(
            "pk", "status"
        )
    )
    assert statuses == {ending.pk: "expired", lasting.pk: "verified", pending.pk: "pending"}


@pytest.mark.django_db
def test_the_nightly_task_expires_certificates_and_returns_the_count(demo):
    from config.celery import app
    from marketplace.tasks import expire_certificates

    certificate = verified()
    Certificate.objects.filter(pk=certificate.pk).update(
        valid_from=TODAY() - 400 * DAY, valid_until=TODAY() - DAY
    )
    assert settings.CELERY_TASK_ALWAYS_EAGER
    schedule = settings.CELERY_BEAT_SCHEDULE["expire-certificates"]
    assert schedule["task"] == expire_certificates.name
    assert schedule["task"] in app.tasks
    assert expire_certificates.delay().get() == 1
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.EXPIRED
    assert expire_certificates.delay().get() == 0


# --- Badges -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_search_entry_carries_the_badges_of_the_one_badge_rule(demo):
    certificate = verified()
    submit(number="OCOP-PENDING", ocop_stars=5)  # pending: no badge
    rendered = Template(
        '{% include "marketplace/partials/badges.html" with badges=entry.badges %}'
    ).render(Context({"entry": entry("NS0005")}))
    assert f'href="/chung-nhan/{certificate.pk}/"' in rendered
    assert "nongsan-badge-ocop" in rendered and "OCOP 4★" in rendered
    assert "OCOP 5★" not in rendered
    assert "nongsan-badge-vietgap" in rendered  # the demo VietGAP of the durian orchard
    # Another producer's certificate that names no product does not leak onto this one.
    assert f"/chung-nhan/{certificate.pk}/" not in str(entry("NS0009").badges)


@pytest.mark.django_db
def test_badges_partial_renders_search_entry_dicts(demo):
    rendered = Template(
        '{% include "marketplace/partials/badges.html" with badges=entry.badges %}'
    ).render(Context({"entry": entry("NS0001")}))
    ocop = [b for b in entry("NS0001").badges if b["kind"] == "ocop"][0]
    assert f'href="/chung-nhan/{ocop["id"]}/"' in rendered
    assert "nongsan-badge nongsan-badge-ocop" in rendered and "OCOP 4★" in rendered


# --- Farmer pages -------------------------------------------------------------------------------


def _form_data(**overrides):
    data = {
        "kind": "ocop",
        "ocop_stars": "4",
        "number": "OCOP-DLK-2026-0100",
        "issuer": "UBND tỉnh Đắk Lắk",
        "scope": "Sầu riêng Ri6",
        "valid_from": (TODAY() - 5 * DAY).isoformat(),
        "valid_until": (TODAY() + 700 * DAY).isoformat(),
        "products": [str(product("NS0005").pk)],
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_farmer_adds_a_certificate_from_a_phone_form(client, demo):
    sign_in(client, FARMER)
    form = client.get("/cua-hang/chung-nhan/them/")
    assert form.status_code == 200
    page = form.content.decode()
    assert 'type="date"' in page and 'name="valid_until"' in page
    assert 'type="checkbox"' in page and "Sầu riêng Ri6 Krông Pắc" in page
    assert "Hồ tiêu đen Chư Sê" not in page  # only this shop's products
    assert 'enctype="multipart/form-data"' in page

    response = client.post("/cua-hang/chung-nhan/them/", _form_data(scan=pdf_upload()))
    assert response.status_code == 302
    assert response["Location"] == "/cua-hang/chung-nhan/"
    certificate = Certificate.objects.get(number="OCOP-DLK-2026-0100")
    assert certificate.status == Certificate.Status.PENDING
    assert certificate.producer == producer("krongpac")
    assert certificate.ocop_stars == 4
    assert list(certificate.products.all()) == [product("NS0005")]
    assert certificate.scan.name.endswith(".pdf")

    listing = client.get("/cua-hang/chung-nhan/").content.decode()
    assert "OCOP-DLK-2026-0100" in listing
    assert "Chờ xác minh" in listing  # "Waiting for verification"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"scan": ("anh.jpg", b"chi la chu, khong phai anh", "image/jpeg")},
            "This file is neither a PDF nor a photo we can read. "
            "Please upload a PDF, JPEG, PNG or WebP file.",
        ),
        (
            {"scan": ("giay.pdf", b"GIF89a not really a pdf", "application/pdf")},
            "This file is not a valid PDF document. Please upload the PDF again, or a photo.",
        ),
        ({"scan": ("lon.pdf", PDF + b" " * (10 * 2**20), "application/pdf")}, "too-large"),
        ({"ocop_stars": ""}, "An OCOP certificate has 3, 4 or 5 stars."),
        (
            {"kind": "globalgap", "ocop_stars": "", "number": "4063061001237"},
            "The last digit (check digit) of this GGN is wrong.",
        ),
        (
            {"valid_until": (TODAY() - 10 * DAY).isoformat()},
            "The end of validity must be after its start.",
        ),
        ({"valid_from": "31/02/2026"}, "Nhập một ngày hợp lệ."),
        ({"number": ""}, "Trường này là bắt buộc."),
    ],
    ids=[
        "text-named-jpg",
        "pdf-named-non-pdf",
        "over-10-mb",
        "ocop-without-stars",
        "wrong-ggn",
        "until-before-from",
        "impossible-date",
        "missing-number",
    ],
)
def test_farmer_form_shows_a_vietnamese_message_and_saves_nothing(client, demo, overrides, message):
    sign_in(client, FARMER)
    if "scan" in overrides:
        name, content, content_type = overrides.pop("scan")
        overrides["scan"] = SimpleUploadedFile(name, content, content_type=content_type)
    before = Certificate.objects.count()
    response = client.post("/cua-hang/chung-nhan/them/", _form_data(**overrides))
    assert response.status_code == 200
    assert response["Content-Language"] == "vi"
    if message == "too-large":
        message = "Tệp quá lớn: tối đa 10 MB."
    page = html.unescape(response.content.decode())
    assert gettext(message) in page
    assert Certificate.objects.count() == before
    # What the farmer typed is still there.
    assert 'value="UBND tỉnh Đắk Lắk"' in page


@pytest.mark.django_db
def test_farmer_cannot_attach_another_shops_product(client, demo):
    sign_in(client, FARMER)
    pepper = product("NS0009")
    response = client.post("/cua-hang/chung-nhan/them/", _form_data(products=[str(pepper.pk)]))
    assert response.status_code == 200
    assert not Certificate.objects.filter(number="OCOP-DLK-2026-0100").exists()
    expected = gettext("Select a valid choice. %(value)s is not one of the available choices.")
    assert expected % {"value": pepper.pk} in html.unescape(response.content.decode())


@pytest.mark.django_db
def test_farmer_sees_the_reason_of_a_rejection(client, demo):
    certificate = submit()
    services.reject_certificate(
        certificate=certificate, by=user(OPERATOR), reason="Thiếu dấu đỏ của UBND tỉnh."
    )
    sign_in(client, FARMER)
    page = client.get("/cua-hang/chung-nhan/").content.decode()
    assert "Thiếu dấu đỏ của UBND tỉnh." in page
    assert "Bị từ chối" in page  # "Rejected"
    detail = client.get(f"/cua-hang/chung-nhan/{certificate.pk}/").content.decode()
    assert "Thiếu dấu đỏ của UBND tỉnh." in detail


@pytest.mark.django_db
def test_farmer_pages_for_every_role(people):
    pending = submit(scan=pdf_upload())
    everyone_but_owners = dict.fromkeys(ROLES, 403) | {"anonymous": 302}
    expected = everyone_but_owners | {"owner": 200, "other_farmer": 200}
    assert people.codes("get", "/cua-hang/chung-nhan/") == expected
    assert people.codes("get", "/cua-hang/chung-nhan/them/") == expected
    assert people.codes("get", f"/cua-hang/chung-nhan/{pending.pk}/") == everyone_but_owners | {
        "owner": 200,
        "other_farmer": 404,
    }
    # The other farmer's own list does not show the first farmer's certificate.
    other = people.client("other_farmer").get("/cua-hang/chung-nhan/").content.decode()
    assert pending.number not in other
    # A POST by someone without a shop creates nothing.
    before = Certificate.objects.count()
    codes = people.codes(
        "post",
        "/cua-hang/chung-nhan/them/",
        _form_data(number="OCOP-X"),
        roles=("anonymous", "buyer", "post_office", "operator"),
    )
    assert codes == {"anonymous": 302, "buyer": 403, "post_office": 403, "operator": 403}
    assert Certificate.objects.count() == before


# --- Public certificate page and scan ---------------------------------------------------------


@pytest.mark.django_db
def test_public_certificate_page_shows_what_a_buyer_needs(client, demo):
    certificate = verified(scan=pdf_upload())
    response = client.get(f"/chung-nhan/{certificate.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    shop = producer("krongpac")
    for text in (
        "OCOP 4★",
        "OCOP-DLK-2026-0001",
        "UBND tỉnh Đắk Lắk",
        "Sầu riêng Ri6",
        short_date(TODAY() - 10 * DAY),
        short_date(TODAY() + 365 * DAY),
        f'href="/nha-san-xuat/{shop.slug}/"',
        "Hộ ông Nguyễn Văn Hùng",
        "Đã xác minh",  # "Verified"
        product("NS0005").get_absolute_url(),
        f'href="/chung-nhan/{certificate.pk}/ban-quet/"',
    ):
        assert html.escape(text) in page or text in page, text
    scan = client.get(f"/chung-nhan/{certificate.pk}/ban-quet/")
    assert scan.status_code == 200
    assert scan["Content-Type"] == "application/pdf"
    assert b"".join(scan.streaming_content) == PDF
    # In English too, under /en/.
    assert client.get(f"/en/chung-nhan/{certificate.pk}/").status_code == 200


@pytest.mark.django_db
def test_certificate_pages_for_every_role(people):
    pending = submit(scan=pdf_upload())
    active = verified(number="OCOP-ACTIVE", products=[product("NS0006")], scan=pdf_upload())
    rejected = services.reject_certificate(
        certificate=submit(number="OCOP-REJ", scan=pdf_upload()),
        by=user(OPERATOR),
        reason="Sai tên sản phẩm",
    )
    expired = Certificate.objects.get(status=Certificate.Status.EXPIRED)  # demo, Trà Bồng
    everyone = dict.fromkeys(ROLES, 200)
    hidden = dict.fromkeys(ROLES, 404) | {"owner": 200, "staff_in_scope": 200, "operator": 200}
    for suffix in ("", "ban-quet/"):
        assert people.codes("get", f"/chung-nhan/{active.pk}/{suffix}") == everyone
        assert people.codes("get", f"/chung-nhan/{pending.pk}/{suffix}") == hidden
        assert people.codes("get", f"/chung-nhan/{rejected.pk}/{suffix}") == hidden
    # Trà Bồng is not the farmer's shop nor in any test staff's scope: operator only.
    only_operator = dict.fromkeys(ROLES, 404) | {"operator": 200}
    assert people.codes("get", f"/chung-nhan/{expired.pk}/") == only_operator
    assert people.codes("get", "/chung-nhan/999999/") == dict.fromkeys(ROLES, 404)


@pytest.mark.django_db
def test_scan_of_a_certificate_without_one_is_404(client, demo):
    certificate = verified()
    assert client.get(f"/chung-nhan/{certificate.pk}/ban-quet/").status_code == 404


# --- Operator pages -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_operator_pages_for_every_role(people):
    only_operator = dict.fromkeys(ROLES, 403) | {"anonymous": 302, "operator": 200}
    assert people.codes("get", "/quan-tri/chung-nhan/") == only_operator
    assert people.codes("get", "/quan-tri/chung-nhan/sap-het-han/") == only_operator

    not_operator = [r for r in ROLES if r != "operator"]
    certificate = submit()
    for action, data in (("duyet", {}), ("tu-choi", {"reason": "Không rõ"})):
        url = f"/quan-tri/chung-nhan/{certificate.pk}/{action}/"
        codes = people.codes("post", url, data, roles=not_operator)
        assert codes == dict.fromkeys(not_operator, 403) | {"anonymous": 302}
        certificate.refresh_from_db()
        assert certificate.status == Certificate.Status.PENDING

    operator = people.client("operator")
    assert operator.get(f"/quan-tri/chung-nhan/{certificate.pk}/duyet/").status_code == 405
    assert operator.post("/quan-tri/chung-nhan/999999/duyet/").status_code == 404
    assert operator.post("/quan-tri/chung-nhan/999999/tu-choi/", {"reason": "x"}).status_code == 404


@pytest.mark.django_db
def test_operator_verifies_from_the_queue(client, demo):
    certificate = submit(scan=pdf_upload())
    sign_in(client, OPERATOR)
    queue = client.get("/quan-tri/chung-nhan/").content.decode()
    assert "OCOP-DLK-2026-0001" in queue
    assert "VietGAP-TT-22-07-19-0023" in queue  # the demo's pending one (Chợ Đồn)
    assert f'action="/quan-tri/chung-nhan/{certificate.pk}/duyet/"' in queue

    response = client.post(f"/quan-tri/chung-nhan/{certificate.pk}/duyet/", follow=True)
    assert response.redirect_chain[-1] == ("/quan-tri/chung-nhan/", 302)
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VERIFIED
    assert certificate.verified_by == user(OPERATOR)
    assert f'action="/quan-tri/chung-nhan/{certificate.pk}/duyet/"' not in (
        response.content.decode()
    )
    assert entry("NS0005").has_ocop is True

    # Verifying twice changes nothing and says why.
    again = client.post(f"/quan-tri/chung-nhan/{certificate.pk}/duyet/", follow=True)
    assert again.status_code == 200
    assert "alert-danger" in again.content.decode() or "alert-error" in again.content.decode()


@pytest.mark.django_db
def test_operator_verifying_an_expired_pending_certificate_is_refused(client, demo):
    certificate = Certificate.objects.create(
        producer=producer("krongpac"),
        kind="vietgap",
        number="VG-OLD",
        issuer="QUACERT",
        valid_from=TODAY() - 500 * DAY,
        valid_until=TODAY() - 2 * DAY,
    )
    sign_in(client, OPERATOR)
    response = client.post(f"/quan-tri/chung-nhan/{certificate.pk}/duyet/", follow=True)
    assert response.status_code == 200
    expected = gettext("This certificate expired on %(date)s; it cannot be verified.") % {
        "date": short_date(TODAY() - 2 * DAY)
    }
    assert expected in html.unescape(response.content.decode())
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.PENDING


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "    "])
def test_operator_rejection_without_a_reason_is_a_form_error(client, demo, reason):
    certificate = submit()
    sign_in(client, OPERATOR)
    response = client.post(f"/quan-tri/chung-nhan/{certificate.pk}/tu-choi/", {"reason": reason})
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert gettext("Please tell the producer why the certificate is rejected.") in page
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.PENDING
    assert certificate.status_reason == ""


@pytest.mark.django_db
def test_operator_rejects_with_a_reason_the_farmer_then_reads(client, demo):
    certificate = submit()
    sign_in(client, OPERATOR)
    assert client.get(f"/quan-tri/chung-nhan/{certificate.pk}/tu-choi/").status_code == 200
    response = client.post(
        f"/quan-tri/chung-nhan/{certificate.pk}/tu-choi/",
        {
            "reason": "Số quyết định không khớp với danh sách của tỉnh.",
            "next": "https://evil.test/",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/quan-tri/chung-nhan/"  # never an outside address
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.REJECTED
    assert certificate.status_reason == "Số quyết định không khớp với danh sách của tỉnh."


@pytest.mark.django_db
def test_operator_queue_runs_the_same_number_of_queries_whatever_its_length(client, demo):
    sign_in(client, OPERATOR)
    shop = producer("krongpac")
    durian, avocado = product("NS0005"), product("NS0007")

    def fill(upto):
        for n in range(Certificate.objects.filter(status="pending").count(), upto):
            submit(
                number=f"OCOP-Q-{n:03d}",
                products=[durian, avocado] if n % 2 else [durian],
                scan=pdf_upload() if n % 3 == 0 else None,
                producer=shop,
            )

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return len(queries), response.content.decode()

    client.get("/")  # the first request of a session opens its basket: not the queue's cost
    fill(5)
    small, page = count("/quan-tri/chung-nhan/")
    assert page.count('/duyet/"') == 5
    fill(25)
    large, page = count("/quan-tri/chung-nhan/")
    assert page.count('/duyet/"') == 20  # 20 a page
    second, page = count("/quan-tri/chung-nhan/?page=2")
    assert page.count('/duyet/"') == 5
    assert small == large == second
    assert large <= 15
    assert client.get("/quan-tri/chung-nhan/?page=999").status_code == 200
    assert client.get("/quan-tri/chung-nhan/?page=abc").status_code == 200


@pytest.mark.django_db
def test_operator_sees_certificates_expiring_within_30_days_soonest_first(client, demo):
    def make(number, days, **kw):
        return verified(
            number=number,
            valid_from=TODAY() - 300 * DAY,
            valid_until=TODAY() + days * DAY,
            **kw,
        )

    make("OCOP-D30", 30)
    make("OCOP-D0", 0)
    make("OCOP-D31", 31)
    submit(number="OCOP-PENDING-D5", valid_until=TODAY() + 5 * DAY)
    sign_in(client, OPERATOR)
    page = client.get("/quan-tri/chung-nhan/sap-het-han/").content.decode()
    assert "OCOP-D31" not in page and "OCOP-PENDING-D5" not in page
    demo_soon = "VietGAP-TT-15-03-33-0091"  # the demo's Hưng Yên VietGAP, 12 days left
    order = [page.index(n) for n in ("OCOP-D0", demo_soon, "OCOP-D30")]
    assert order == sorted(order)


# --- Demo -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_demo_has_certificates_of_every_kind_and_state(demo):
    active = Certificate.objects.badges()
    assert set(active.values_list("kind", flat=True)) == set(Certificate.Kind.values)
    stars = set(active.filter(kind="ocop").values_list("ocop_stars", flat=True))
    assert stars == {3, 4, 5}
    assert Certificate.objects.filter(status="pending").count() == 1
    assert Certificate.objects.get(status="pending").producer == producer("chodon")
    rejected = Certificate.objects.get(status="rejected")
    assert rejected.status_reason
    expired = Certificate.objects.get(status="expired")
    assert expired.valid_until < TODAY()
    soon = active.filter(valid_until__lte=TODAY() + 20 * DAY)
    assert soon.count() == 1
    globalgap = active.get(kind="globalgap")
    validate_ggn(globalgap.number)
    assert globalgap.producer == producer("eakiet")
    assert active.get(kind="organic").producer == producer("ngoclinh")
    assert {c.producer for c in active.filter(kind="vietgap")} >= {
        producer("dalat"),
        producer("krongpac"),
    }
    assert active.filter(verified_by=user(OPERATOR)).count() == active.count()
    # The badges reach the search rows: Robusta Buôn Ma Thuột is OCOP 4★, ST25 5★.
    assert entry("NS0001").ocop_stars == 4
    assert entry("NS0025").ocop_stars == 5
    assert entry("NS0013").ocop_stars == 5
    assert entry("NS0023").ocop_stars == 3
    assert entry("NS0001").has_globalgap is True


@pytest.mark.django_db
def test_demo_seed_twice_changes_nothing(demo):
    def snapshot():
        return sorted(
            Certificate.objects.values_list(
                "pk", "producer_id", "kind", "number", "status", "updated", "scan"
            )
        )

    before = snapshot()
    with open(os.devnull, "w") as devnull:
        demo_certificates.seed(devnull)
    assert snapshot() == before


def test_marketplace_certificate_modules_do_not_import_farmers_at_import_time():
    """Dependencies point one way: farmers uses marketplace (DESIGN.md)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "marketplace"
    for name in (
        "certificates/models.py",
        "certificates/services.py",
        "certificates/forms.py",
        "certificates/views.py",
        "certificates/urls.py",
        "demo/certificates.py",
        "tasks.py",
    ):
        tree = ast.parse((root / name).read_text())
        for node in tree.body:  # module level only; a lazy import inside a function is fine
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            assert not any(m.split(".")[0] in ("farmers", "traceability") for m in modules), name
