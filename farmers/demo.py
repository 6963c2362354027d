"""Demo organisations, their staff and members in every status (idempotent: keyed by
names, e-mails and citizen IDs)."""

import datetime
import io

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image, ImageDraw

from marketplace.core import geo
from marketplace.demo.base import DEMO_PASSWORD, ensure_user

from . import crypto, services
from .models import Consent, Member, MemberDocument, Organisation
from .services import assign_staff, upsert_organisation

ASSOCIATION_STAFF = ("canbohoi@nongsan.test", "Thảo", "Vũ Thị")
POST_OFFICE_STAFF = ("buudien@nongsan.test", "Nam", "Trần Văn")
PROVINCE_STAFF = ("canbotinh.daklak@nongsan.test", "Minh", "Đỗ Quang")
GIA_LAI_STAFF = ("canbohoi.chuse@nongsan.test", "Hà", "Rơ Châm")
# (name, birth date, gender, CCCD, phone, branch key, status, reason, account password?)
MEMBERS = (
    ("Y Bhim Niê", (1985, 4, 2), "male", "066085004211", "0905123401", "ea_kiet", "draft", ""),
    ("H'Hen Êban", (1990, 9, 15), "female", "066190007352", "0905123402", "ea_kiet",
     "submitted", ""),
    ("Trần Văn Hùng", (1979, 1, 20), "male", "066079001845", "0905123403", "krong_pac",
     "verified", ""),
    ("Nguyễn Thị Lan", (1978, 3, 12), "female", "066178001234", "0905123404", "ea_kiet",
     "approved", ""),
    ("Rơ Lan Hyơn", (1988, 6, 30), "female", "064188002961", "0905123405", "chu_se",
     "returned", "Ảnh CCCD mặt sau bị mờ, vui lòng chụp lại rõ nét."),
    ("Phạm Văn Sơn", (1965, 11, 5), "male", "064065009876", "0905123406", "chu_se",
     "rejected", "Đã đăng ký bán hàng qua một hợp tác xã khác."),
)  # fmt: skip
# The path each status takes from a draft.
PATHS = {
    "draft": (),
    "submitted": ("submit",),
    "verified": ("submit", "verify"),
    "approved": ("submit", "verify", "approve"),
    "returned": ("submit", "return"),
    "rejected": ("submit", "reject"),
}


@transaction.atomic
def seed(stdout) -> list[str]:
    kind = Organisation.Kind
    dak_lak = upsert_organisation(
        name="Hội Nông dân tỉnh Đắk Lắk", kind=kind.PROVINCIAL_ASSOCIATION, province_code=66
    )
    ea_kiet = upsert_organisation(
        name="Chi hội Nông dân xã Ea Kiết",
        kind=kind.ASSOCIATION_BRANCH,
        province_code=66,
        commune_code=geo.find_commune(66, "Ea Kiết"),
        parent=dak_lak,
    )
    krong_pac = upsert_organisation(
        name="Chi hội Nông dân xã Krông Pắc",
        kind=kind.ASSOCIATION_BRANCH,
        province_code=66,
        commune_code=geo.find_commune(66, "Krông Pắc"),
        parent=dak_lak,
    )
    gia_lai = upsert_organisation(
        name="Hội Nông dân tỉnh Gia Lai", kind=kind.PROVINCIAL_ASSOCIATION, province_code=52
    )
    chu_se = upsert_organisation(
        name="Chi hội Nông dân xã Chư Sê",
        kind=kind.ASSOCIATION_BRANCH,
        province_code=52,
        commune_code=geo.find_commune(52, "Chư Sê"),
        parent=gia_lai,
    )
    post_office = upsert_organisation(
        name="Bưu điện tỉnh Đắk Lắk",
        kind=kind.POST_OFFICE,
        province_code=66,
        commune_code=geo.find_commune(66, "Buôn Ma Thuột"),
    )
    assign_staff(user=ensure_user(*ASSOCIATION_STAFF), organisation=ea_kiet, title="Chi hội trưởng")
    assign_staff(
        user=ensure_user(*POST_OFFICE_STAFF),
        organisation=post_office,
        title="Giao dịch viên",
    )
    province_staff = ensure_user(*PROVINCE_STAFF)
    assign_staff(user=province_staff, organisation=dak_lak, title="Phó Chủ tịch Hội")
    gia_lai_staff = ensure_user(*GIA_LAI_STAFF)
    assign_staff(user=gia_lai_staff, organisation=chu_se, title="Chi hội trưởng")
    branches = {"ea_kiet": ea_kiet, "krong_pac": krong_pac, "chu_se": chu_se}
    operator = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    approvers = {66: (province_staff, services.PROVINCE), 52: (operator, services.OPERATOR)}
    farmers = _seed_members(branches, approvers=approvers)
    return [
        f"  Assoc.    {ASSOCIATION_STAFF[0]:<28} {DEMO_PASSWORD}  ({ea_kiet.name}; /can-bo/)",
        f"  Province  {PROVINCE_STAFF[0]:<28} {DEMO_PASSWORD}  ({dak_lak.name}: approves)",
        f"  Assoc.    {GIA_LAI_STAFF[0]:<28} {DEMO_PASSWORD}  ({chu_se.name})",
        *(
            f"  Member    {phone:<28} {DEMO_PASSWORD}  ({name}, {status}; signs in by phone)"
            for phone, name, status in farmers
        ),
        f"  Post      {POST_OFFICE_STAFF[0]:<28} {DEMO_PASSWORD}  ({post_office.name}; /buu-dien/)",
    ]


def _photo(text: str) -> SimpleUploadedFile:
    image = Image.new("RGB", (480, 300), (222, 235, 247))
    ImageDraw.Draw(image).text((20, 20), text, fill=(20, 40, 80))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return SimpleUploadedFile("cccd.jpg", out.getvalue(), content_type="image/jpeg")


def _seed_members(branches, *, approvers) -> list[tuple[str, str, str]]:
    """One member per status, each brought there through the real services."""
    accounts = []
    for name, born, gender, number, phone, branch_key, status, reason in MEMBERS:
        if Member.objects.filter(cccd_hash=crypto.keyed_hash(number)).exists():
            member = Member.objects.get(cccd_hash=crypto.keyed_hash(number))
        else:
            branch = branches[branch_key]
            staff = branch.memberships.first()
            approver, approver_role = approvers[branch.province_code]
            actor, role = (staff.user, services.BRANCH) if staff else (approver, approver_role)
            member = services.register_member(
                actor=actor,
                role=role,
                data={
                    "full_name": name,
                    "date_of_birth": datetime.date(*born),
                    "gender": gender,
                    "cccd": number,
                    "phone": phone,
                    "province_code": branch.province_code,
                    "commune_code": branch.commune_code,
                    "street": "Thôn 3",
                    "branch": branch,
                    "farm_area_m2": 15_000,
                    "main_products": "Cà phê, hồ tiêu",
                    "bank_bin": "970405",
                    "bank_account": "5100205123" + phone[-3:],
                    "bank_holder": name,
                },
            )
            services.record_consent(
                actor=actor, role=role, member=member, purpose=Consent.Purpose.MARKETPLACE
            )
            if status == "approved":  # they sell: the post office delivers their parcels
                services.record_consent(
                    actor=actor, role=role, member=member, purpose=Consent.Purpose.POST_OFFICE
                )
            if status != "draft":
                for kind in MemberDocument.ID_KINDS:
                    services.add_document(
                        actor=actor, role=role, member=member, kind=kind, upload=_photo(kind)
                    )
            for action in PATHS[status]:
                by, by_role = (
                    (approver, approver_role) if action in ("approve", "reject") else (actor, role)
                )
                services.transition(
                    actor=by, role=by_role, member=member, action=action, reason=reason
                )
            member.refresh_from_db()
        if member.partner_id is not None:
            _shop_photo(member)
        if status in ("approved", "returned"):
            if member.user_id is None:
                services.invite_member(actor=None, role=services.OPERATOR, member=member)
                member.refresh_from_db()
            member.user.set_password(DEMO_PASSWORD)
            member.user.is_active = True
            member.user.save()
            member.activation_codes.filter(used_at__isnull=True).delete()  # not needed
            accounts.append((phone, name, status))
    return accounts


def _shop_photo(member: Member) -> None:
    """A farm photo on the new shop's page, like every other demo producer has."""
    from django.core.files.base import ContentFile

    from marketplace.demo.images import draw_farm_photo
    from marketplace.models import ProducerPhoto

    profile = member.partner.producer_profile
    if not profile.photos.exists():
        caption = f"{member.full_name} — {member.commune_name}"
        photo = ProducerPhoto(producer=profile, caption=caption)
        photo.image.save(f"member-{member.pk}.jpg", ContentFile(draw_farm_photo("ea-kiet")))
