"""Fixtures of the member registry tests: private files in a temporary folder, activation
messages kept in memory, and the people of the scope tests."""

import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from farmers import senders


@pytest.fixture(autouse=True)
def _private_files_and_outbox(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.ACTIVATION_SENDER = "farmers.senders.LocmemSender"
    senders.outbox.clear()
    yield
    senders.outbox.clear()


def jpeg(size=(64, 48), name="photo.jpg") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def user(email: str):
    return get_user_model().objects.get(email=email)


# --- A small world: two provinces, branches, a post office, staff, one member each --------

ROLES = (
    "anonymous",
    "buyer",
    "farmer",  # a member with an account, but of another branch and province
    "branch",  # staff of the member's own branch (Ea Kiết)
    "neighbour_branch",  # another branch, same province (Krông Pắc)
    "province",  # Đắk Lắk provincial association
    "post_office",  # Đắk Lắk post office
    "other_branch",  # a branch in Gia Lai
    "other_province",  # Gia Lai provincial association
    "operator",
)
IN_SCOPE = ("branch", "province", "operator")
# The post office sees a member only once they consented to sharing with it and left the
# draft (tests/farmers/test_personal_data.py); the world's member is a draft.
OUT_OF_SCOPE = (
    "buyer", "farmer", "neighbour_branch", "post_office", "other_branch", "other_province",
)  # fmt: skip


def member_data(**overrides):
    from farmers.models import Organisation

    branch = overrides.pop("branch", None) or Organisation.objects.get(name="Chi hội Ea Kiết")
    data = {
        "full_name": "Nguyễn Thị Lan",
        "date_of_birth": datetime.date(1978, 3, 12),
        "gender": "female",
        "cccd": "066178001234",
        "phone": "0905 123 404",
        "province_code": branch.province_code,
        "commune_code": branch.commune_code,
        "street": "Thôn 3",
        "branch": branch,
        "farm_area_m2": 15000,
        "main_products": "Cà phê",
        "bank_bin": "970405",
        "bank_account": "5100205123404",
        "bank_holder": "Nguyễn Thị Lan",
    }
    data.update(overrides)
    return data


class World:
    def __init__(self):
        from farmers import services
        from farmers.models import Consent, MemberDocument, Organisation
        from marketplace.core import geo
        from marketplace.demo.base import ensure_user

        kind = Organisation.Kind
        up = services.upsert_organisation
        dak_lak = up(name="Hội ND Đắk Lắk", kind=kind.PROVINCIAL_ASSOCIATION, province_code=66)
        gia_lai = up(name="Hội ND Gia Lai", kind=kind.PROVINCIAL_ASSOCIATION, province_code=52)
        self.ea_kiet = up(
            name="Chi hội Ea Kiết", kind=kind.ASSOCIATION_BRANCH, province_code=66,
            commune_code=geo.find_commune(66, "Ea Kiết"), parent=dak_lak,
        )  # fmt: skip
        krong_pac = up(
            name="Chi hội Krông Pắc", kind=kind.ASSOCIATION_BRANCH, province_code=66,
            commune_code=geo.find_commune(66, "Krông Pắc"), parent=dak_lak,
        )  # fmt: skip
        self.chu_se = up(
            name="Chi hội Chư Sê", kind=kind.ASSOCIATION_BRANCH, province_code=52,
            commune_code=geo.find_commune(52, "Chư Sê"), parent=gia_lai,
        )  # fmt: skip
        post = up(name="Bưu điện Đắk Lắk", kind=kind.POST_OFFICE, province_code=66)
        orgs = {
            "branch": self.ea_kiet,
            "neighbour_branch": krong_pac,
            "province": dak_lak,
            "post_office": post,
            "other_branch": self.chu_se,
            "other_province": gia_lai,
        }
        self.users = {}
        for role, org in orgs.items():
            self.users[role] = ensure_user(f"{role}@nongsan.test", f"{role} Staff")
            services.assign_staff(user=self.users[role], organisation=org)
        self.users["operator"] = ensure_user(
            "operator@nongsan.test", "Op Erator", is_staff=True, is_superuser=True
        )
        self.users["buyer"] = ensure_user("buyer@nongsan.test", "Bu Yer")
        clerk = self.users["branch"]
        self.member = services.register_member(actor=clerk, role="branch", data=member_data())
        services.record_consent(
            actor=clerk, role="branch", member=self.member, purpose=Consent.Purpose.MARKETPLACE
        )
        self.id_photo = services.add_document(
            actor=clerk, role="branch", member=self.member,
            kind=MemberDocument.Kind.CCCD_FRONT, upload=jpeg(),
        )  # fmt: skip
        services.add_document(
            actor=clerk, role="branch", member=self.member,
            kind=MemberDocument.Kind.CCCD_BACK, upload=jpeg(),
        )  # fmt: skip
        self.farm_photo = services.add_document(
            actor=clerk, role="branch", member=self.member,
            kind=MemberDocument.Kind.FARM_PHOTO, upload=jpeg(),
        )  # fmt: skip
        # A farmer of Chư Sê with an active account: a member, but not this one.
        self.other = services.register_member(
            actor=self.users["other_branch"],
            role="branch",
            data=member_data(
                full_name="Rơ Lan Hyơn", cccd="064188002961", phone="0905123405",
                date_of_birth=datetime.date(1988, 6, 30), branch=self.chu_se,
            ),
        )  # fmt: skip
        services.invite_member(actor=self.users["other_branch"], role="branch", member=self.other)
        self.other.refresh_from_db()
        self.users["farmer"] = self.other.user
        self.users["farmer"].is_active = True
        self.users["farmer"].set_password("nongsan2026")
        self.users["farmer"].save()

    def client(self, role):
        from django.test import Client

        client = Client()
        if role != "anonymous":
            client.force_login(self.users[role])
        return client


@pytest.fixture
def world(blank_db):
    return World()
