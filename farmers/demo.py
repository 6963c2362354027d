"""Demo organisations and their staff (idempotent: keyed by names and e-mails)."""

from django.db import transaction

from marketplace import geo
from marketplace.demo import DEMO_PASSWORD, ensure_user

from .models import Organisation
from .services import assign_staff, upsert_organisation

ASSOCIATION_STAFF = ("canbohoi@nongsan.test", "Thảo", "Vũ Thị")
POST_OFFICE_STAFF = ("buudien@nongsan.test", "Nam", "Trần Văn")


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
    upsert_organisation(
        name="Chi hội Nông dân xã Krông Pắc",
        kind=kind.ASSOCIATION_BRANCH,
        province_code=66,
        commune_code=geo.find_commune(66, "Krông Pắc"),
        parent=dak_lak,
    )
    gia_lai = upsert_organisation(
        name="Hội Nông dân tỉnh Gia Lai", kind=kind.PROVINCIAL_ASSOCIATION, province_code=52
    )
    upsert_organisation(
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
    return [
        f"  Assoc.    {ASSOCIATION_STAFF[0]:<28} {DEMO_PASSWORD}  ({ea_kiet.name})",
        f"  Post      {POST_OFFICE_STAFF[0]:<28} {DEMO_PASSWORD}  ({post_office.name})",
    ]
