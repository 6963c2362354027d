"""Member registry: CCCD privacy, search, documents, workflow, consent, shop, activation."""

import datetime
import re
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from farmers import cccd, crypto, senders, services
from farmers.models import ActivationCode, Consent, Member, MemberEvent
from marketplace.models import ProducerProfile
from tests.starting import start

from .conftest import jpeg, member_data

ROOT = Path(__file__).resolve().parents[2]


# --- CCCD ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "dob", "gender", "code"),
    [
        ("06617800123", None, None, "length"),
        ("0661780012345", None, None, "length"),
        ("06617800123a", None, None, "digits"),
        ("003178001234", None, None, "province"),  # 003 is no province code
        ("097178001234", None, None, "province"),
        ("066178001234", datetime.date(1979, 1, 1), None, "year"),
        ("066178001234", datetime.date(1978, 1, 1), "male", "gender"),  # 1 = female, 1900s
        ("066278001234", datetime.date(1978, 1, 1), None, "year"),  # 2 = born 2000s
    ],
)
def test_a_bad_cccd_is_refused_with_a_reason(number, dob, gender, code):
    with pytest.raises(ValidationError) as info:
        cccd.validate(number, date_of_birth=dob, gender=gender)
    assert info.value.code == code


def test_a_good_cccd_is_accepted_as_typed_with_spaces():
    assert cccd.validate("066 178 001 234", date_of_birth=datetime.date(1978, 3, 12),
                         gender="female") == "066178001234"  # fmt: skip
    assert cccd.validate("001305001234", date_of_birth=datetime.date(2005, 1, 1)) == "001305001234"


@pytest.mark.django_db
def test_the_cccd_is_stored_encrypted_found_by_keyed_hash_and_unique(world):
    member = world.member
    raw = Member.objects.filter(pk=member.pk).values("cccd_encrypted", "cccd_hash").get()
    assert "066178001234" not in raw["cccd_encrypted"] + raw["cccd_hash"]
    assert crypto.decrypt(raw["cccd_encrypted"]) == "066178001234"
    assert member.cccd_masked == "*********234"
    with translation.override("en"), pytest.raises(ValidationError) as info:
        services.register_member(actor=world.users["branch"], role="branch", data=member_data())
    assert "already registered" in str(info.value)


# --- Registration, list and search -------------------------------------------------------------


@pytest.mark.django_db
def test_branch_staff_registers_a_member_and_sees_only_the_masked_cccd(world):
    client = world.client("branch")
    form = {
        "full_name": "Y Bhim Niê", "date_of_birth": "1985-04-02", "gender": "male",
        "cccd": "066085004211", "phone": "0905123401", "province_code": "66",
        "commune_code": str(world.ea_kiet.commune_code), "street": "Buôn Ea Kiết",
        "branch": str(world.ea_kiet.pk), "farm_area": "1.5", "farm_area_unit": "ha",
        "main_products": "Cà phê", "bank_bin": "970405", "bank_account": "5100205123401",
        "bank_holder": "Y Bhim Niê",
    }  # fmt: skip
    response = client.post(reverse("farmers:member-create"), form)
    member = Member.objects.get(full_name="Y Bhim Niê")
    assert response["Location"] == reverse("farmers:member-detail", args=[member.pk])
    assert (member.status, member.phone, member.farm_area_m2) == ("draft", "+84905123401", 15000)
    assert member.bank_holder == "Y BHIM NIE"
    page = client.get(response["Location"]).content.decode()
    assert "*********211" in page and "066085004211" not in page
    assert "0905 123 401" in page and "1.5 ha" in page
    # Bad input: a clear message per field, nothing saved, never a 500.
    bad = dict(form, cccd="066085004212", phone="12345", date_of_birth="1986-04-02")
    response = client.post(reverse("farmers:member-create"), bad)
    assert response.status_code == 200
    html = response.content.decode()
    assert "1985" in html  # the CCCD says born 1985
    assert "0912 345 678" in html  # how to write a phone number
    assert Member.objects.count() == 3


@pytest.mark.django_db
def test_search_by_folded_name_phone_and_exact_cccd(world):
    client = world.client("operator")
    url = reverse("farmers:members")

    def names(**query):
        page = client.get(url, query).content.decode()
        return {n for n in ("Nguyễn Thị Lan", "Rơ Lan Hyơn") if n in page}

    assert names(q="nguyen thi lan") == {"Nguyễn Thị Lan"}
    assert names(q="LAN") == {"Nguyễn Thị Lan", "Rơ Lan Hyơn"}
    assert names(q="0905 123 405") == {"Rơ Lan Hyơn"}
    assert names(q="+84905123404") == {"Nguyễn Thị Lan"}
    assert names(q="064188002961") == {"Rơ Lan Hyơn"}
    assert names(q="064188002962") == set()
    assert names(status="draft", branch=world.chu_se.pk) == {"Rơ Lan Hyơn"}
    assert names(commune=world.ea_kiet.commune_code) == {"Nguyễn Thị Lan"}


@pytest.mark.django_db
def test_member_list_keeps_a_constant_number_of_queries(world, django_assert_max_num_queries):
    for i in range(25):
        services.register_member(
            actor=world.users["branch"], role="branch",
            data=member_data(full_name=f"Hội viên {i}", cccd=f"066178{i:06d}",
                             phone=f"09051230{i:02d}"),
        )  # fmt: skip
    client = world.client("branch")
    client.get(reverse("farmers:members"))  # the first page view of a session opens a basket
    counts = {}
    for size in (5, 25):
        with django_assert_max_num_queries(20) as captured:
            response = client.get(reverse("farmers:members"), {"size": size})
        assert response.content.decode().count("*********") == size
        counts[size] = len(captured)
    assert counts[5] == counts[25]


# --- Documents ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_documents_are_cleaned_stored_privately_and_bad_files_refused(world):
    client = world.client("branch")
    url = reverse("farmers:member-upload", args=[world.member.pk])
    response = client.post(url, {"kind": "certificate", "image": jpeg((3000, 2000))}, follow=True)
    assert response.status_code == 200
    document = world.member.documents.get(kind="certificate")
    path = Path(document.file.path)
    assert path.is_relative_to(Path(settings.PRIVATE_MEDIA_ROOT))
    assert not path.is_relative_to(Path(settings.MEDIA_ROOT))
    from PIL import Image

    assert max(Image.open(path).size) <= 2000
    assert max(Image.open(document.thumbnail.path).size) <= 240
    text = SimpleUploadedFile("cccd.jpg", b"%PDF-1.4 not a photo", content_type="image/jpeg")
    response = client.post(url, {"kind": "cccd_front", "image": text}, follow=True)
    html = response.content.decode()
    assert any(
        gettext(message) in html
        for message in (
            "This file is not a photo we can read. Please upload a JPEG, PNG or WebP photo.",
            "Please upload a JPEG, PNG or WebP photo.",
        )
    )
    assert world.member.documents.filter(kind="cccd_front").count() == 1
    served = client.get(reverse("farmers:member-document", args=[world.member.pk, document.pk]))
    assert served["Content-Type"] == "image/jpeg"
    assert served["Cache-Control"] == "private, no-store"


@pytest.mark.django_db
def test_showing_the_full_cccd_is_an_explicit_logged_action(world):
    url = reverse("farmers:member-cccd", args=[world.member.pk])
    page = world.client("branch").post(url).content.decode()
    assert "066178001234" in page
    assert world.client("branch").get(url).status_code == 405
    refused = world.client("province").post(url, follow=True).content.decode()
    assert "066178001234" not in refused
    log = list(world.member.accesses.values_list("user__email", "what"))
    assert log == [("branch@nongsan.test", "cccd")]
    log_url = reverse("farmers:member-access-log", args=[world.member.pk])
    assert "branch Staff" in world.client("province").get(log_url).content.decode()


# --- Workflow ----------------------------------------------------------------------------------


def _do(world, role, action, reason=""):
    return services.transition(
        actor=world.users[role], role=role, member=world.member, action=action, reason=reason
    )


@pytest.mark.django_db
def test_the_application_moves_only_along_allowed_transitions_by_allowed_roles(world):
    with pytest.raises(ValidationError):
        _do(world, "branch", "verify")  # still a draft
    _do(world, "post_office", "submit")
    with translation.override("en"), pytest.raises(PermissionDenied):
        _do(world, "post_office", "verify")
    with translation.override("en"), pytest.raises(ValidationError, match="reason"):
        _do(world, "branch", "return")
    _do(world, "branch", "return", "Ảnh mặt sau bị mờ")
    world.member.refresh_from_db()
    assert (world.member.status, world.member.status_reason) == ("returned", "Ảnh mặt sau bị mờ")
    _do(world, "branch", "submit")
    _do(world, "branch", "verify")
    with pytest.raises(PermissionDenied):
        _do(world, "branch", "approve")  # a branch does not approve
    history = list(MemberEvent.objects.filter(member=world.member, action__in=services.TRANSITIONS)
                   .values_list("action", "actor_role", "from_status", "to_status"))  # fmt: skip
    assert history == [
        ("submit", "post_office", "draft", "submitted"),
        ("return", "branch", "submitted", "returned"),
        ("submit", "branch", "returned", "submitted"),
        ("verify", "branch", "submitted", "verified"),
    ]
    event = MemberEvent.objects.filter(member=world.member).first()
    event.reason = "changed"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()


@pytest.mark.django_db
def test_verification_needs_both_sides_of_the_id_card(world):
    world.member.documents.filter(kind="cccd_back").delete()
    _do(world, "branch", "submit")
    with translation.override("en"), pytest.raises(ValidationError, match="both sides"):
        _do(world, "branch", "verify")


@pytest.mark.django_db
def test_no_consent_to_selling_means_no_approval(world):
    services.withdraw_consent(
        actor=world.users["branch"], role="branch", member=world.member,
        purpose=Consent.Purpose.MARKETPLACE,
    )  # fmt: skip
    _do(world, "branch", "submit")
    _do(world, "branch", "verify")
    client = world.client("province")
    url = reverse("farmers:member-transition", args=[world.member.pk])
    page = client.post(url, {"action": "approve"}, follow=True).content.decode()
    assert "consented to selling" in page or "đồng ý" in page
    world.member.refresh_from_db()
    assert world.member.status == "verified" and world.member.partner is None
    consent = world.member.consents.get()
    assert consent.withdrawn_at is not None and consent.notice_version
    consent_url = reverse("farmers:member-consent", args=[world.member.pk])
    client.post(consent_url, {"purpose": "marketplace"})
    client.post(url, {"action": "approve"})
    world.member.refresh_from_db()
    assert world.member.status == "approved"
    assert world.member.consents.count() == 2  # the withdrawn one stays on record


@pytest.mark.django_db
def test_approval_opens_one_shop_and_sends_an_activation_code(world, client):
    _do(world, "branch", "submit")
    _do(world, "branch", "verify")
    with TestCase.captureOnCommitCallbacks(execute=True):
        _do(world, "province", "approve")
    world.member.refresh_from_db()
    profile = ProducerProfile.objects.get(partner=world.member.partner)
    assert profile.commune_code == world.ea_kiet.commune_code
    user = world.member.user
    assert not user.is_active and user.username == "+84905123404"
    assert list(world.member.partner.users.all()) == [user]
    with pytest.raises(ValidationError):
        _do(world, "province", "approve")  # twice: refused, still one shop
    assert ProducerProfile.objects.count() == 1
    assert len(senders.outbox) == 1 and senders.outbox[0]["phone"] == "+84905123404"
    code = re.search(r"\b\d{6}\b", senders.outbox[0]["message"])[0]
    url = reverse("farmers:activate")
    form = {"phone": "0905123404", "code": "000000", "password1": "Ca-phe-2026!",
            "password2": "Ca-phe-2026!"}  # fmt: skip
    form["code"] = "111111" if code == "000000" else "000000"
    response = client.post(url, form)
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    response = client.post(url, dict(form, code=code))
    assert response["Location"] == reverse("farmers:my-record")
    user.refresh_from_db()
    assert user.is_active and user.check_password("Ca-phe-2026!")
    client.logout()
    again = client.post(url, dict(form, code=code, password1="x1Y2z3W4v5", password2="x1Y2z3W4v5"))
    assert again.status_code == 200  # single use
    signed = client.post(reverse("farmers:farmer-login"),
                         {"phone": "0905 123 404", "password": "Ca-phe-2026!"})  # fmt: skip
    assert signed["Location"] == reverse("farmers:my-record")
    assert "Nguyễn Thị Lan" in client.get(signed["Location"]).content.decode()


@pytest.mark.django_db
def test_the_activation_link_follows_the_address_served(world, settings):
    settings.SITE_BASE_URL = "http://127.0.0.1:8101"
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.invite_member(actor=world.users["branch"], role="branch", member=world.member)
    link = "http://127.0.0.1:8101" + reverse("farmers:activate") + "?so=0905123404"
    assert link in senders.outbox[-1]["message"]


@pytest.mark.django_db
def test_activation_codes_expire_and_allow_few_attempts(world):
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.invite_member(actor=world.users["branch"], role="branch", member=world.member)
    code = re.search(r"\b\d{6}\b", senders.outbox[-1]["message"])[0]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(services.ACTIVATION_MAX_ATTEMPTS):
        with translation.override("en"), pytest.raises(services.ActivationError):
            services.activate_account(phone="0905123404", code=wrong, password="x1Y2z3W4v5")
    with translation.override("en"), pytest.raises(services.ActivationError, match="Too many"):
        services.activate_account(phone="0905123404", code=code, password="x1Y2z3W4v5")
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.invite_member(actor=world.users["branch"], role="branch", member=world.member)
    code = re.search(r"\b\d{6}\b", senders.outbox[-1]["message"])[0]
    ActivationCode.objects.filter(used_at__isnull=True).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    with translation.override("en"), pytest.raises(services.ActivationError, match="expired"):
        services.activate_account(phone="0905123404", code=code, password="x1Y2z3W4v5")


# --- The farmer's own record ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_returned_farmer_reads_the_reason_and_corrects_allowed_fields(world):
    other = world.other
    staff = world.users["other_branch"]
    services.add_document(
        actor=staff, role="branch", member=other, kind="cccd_front", upload=jpeg()
    )
    services.transition(actor=staff, role="branch", member=other, action="submit")
    client = world.client("farmer")
    page = client.get(reverse("farmers:my-record")).content.decode()
    assert "cannot change it" in page or 'name="phone"' not in page
    services.transition(actor=staff, role="branch", member=other, action="return",
                        reason="Thiếu ảnh CCCD mặt sau")  # fmt: skip
    page = client.get(reverse("farmers:my-record")).content.decode()
    assert "Thiếu ảnh CCCD mặt sau" in page and 'capture="environment"' in page
    response = client.post(reverse("farmers:my-record"), {
        "phone": "0912 345 678", "commune_code": str(other.commune_code), "street": "Thôn 5",
        "farm_area": "2", "farm_area_unit": "ha", "full_name": "Someone Else",
    })  # fmt: skip
    assert response.status_code == 302
    other.refresh_from_db()
    assert (other.phone, other.street, other.farm_area_m2) == ("+84912345678", "Thôn 5", 20000)
    assert other.full_name == "Rơ Lan Hyơn"  # not a field the farmer may change
    client.post(reverse("farmers:my-upload"), {"kind": "cccd_back", "image": jpeg()})
    assert other.documents.filter(kind="cccd_back").exists()
    assert other.events.filter(actor_role="farmer", action="document_added").exists()


# --- Settings and demo ---------------------------------------------------------------------------


def test_production_refuses_to_start_without_a_personal_data_key():
    weak = [None, "short", "dev-personal-data-key-not-for-production"]
    *refused, production, development = start(
        *({"PERSONAL_DATA_KEY": key} for key in weak),
        {"PERSONAL_DATA_KEY": "p" * 50},
        {"DEBUG": "1", "PERSONAL_DATA_KEY": None},
    )
    assert "PERSONAL_DATA_KEY is missing" in refused[0]
    assert all(refused), refused
    assert production is None  # loads with a long key
    assert development == "started"  # and development starts without one


@pytest.mark.django_db
def test_demo_has_members_in_every_status(demo):
    statuses = set(Member.objects.values_list("status", flat=True))
    assert statuses == {"draft", "submitted", "verified", "approved", "returned", "rejected"}
    approved = Member.objects.get(status="approved")
    assert approved.partner.producer_profile is not None or approved.partner_id
    provinces = set(Member.objects.values_list("branch__province_code", flat=True))
    assert len(provinces) >= 2


# --- PostgreSQL: concurrent approvals open one shop ---------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_open_exactly_one_shop(world):
    from tests.conftest import need

    need(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL)")
    _do(world, "branch", "submit")
    _do(world, "branch", "verify")
    barrier = threading.Barrier(4)
    outcomes = []

    def approve():
        from django.db import connections

        try:
            barrier.wait()
            _do(world, "province", "approve")
            outcomes.append("approved")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["approved", "refused", "refused", "refused"]
    assert ProducerProfile.objects.count() == 1
    world.member.refresh_from_db()
    assert world.member.status == "approved" and world.member.partner_id is not None


@pytest.mark.django_db
def test_member_page_shows_history_with_who_role_and_reason_in_constant_queries(
    world, django_assert_max_num_queries
):
    client = world.client("province")
    url = reverse("farmers:member-detail", args=[world.member.pk])
    client.get(url)
    with django_assert_max_num_queries(25) as few:
        client.get(url)
    _do(world, "branch", "submit")
    _do(world, "branch", "return", "Ảnh mặt sau bị mờ")
    for _ in range(3):
        services.add_document(actor=world.users["branch"], role="branch", member=world.member,
                              kind="farm_photo", upload=jpeg())  # fmt: skip
    with django_assert_max_num_queries(len(few)):
        page = client.get(url).content.decode()
    assert "Ảnh mặt sau bị mờ" in page
    assert page.count("branch Staff") >= 3  # who (the branch clerk's name), each time
    assert 'name="action" value="submit"' in page  # returned: the province may resubmit


@pytest.mark.django_db
def test_farmer_sign_in_by_phone_refuses_a_wrong_password_and_foreign_next(world, client):
    url = reverse("farmers:farmer-login")
    anonymous = client.get(reverse("farmers:my-record"))
    assert anonymous["Location"].startswith(reverse("customer:login"))  # the one sign-in page
    wrong = client.post(url, {"phone": "0905123405", "password": "sai"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    ok = client.post(url, {"phone": "0905 123 405", "password": "nongsan2026",
                           "next": "https://evil.example/"})  # fmt: skip
    assert ok["Location"] == reverse("farmers:my-record")
