"""Personal data (Law 91/2025/QH15, consent per purpose): the post office sees a member only
once they consented to sharing with it, and never a draft; a commune branch registers
members of its own commune only; phone numbers are Vietnamese ones; opening a member
page writes one access-log entry however many ID photos it shows."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation
from oscar.core.loading import get_class

from farmers import services
from farmers.models import Consent, PersonalDataAccess
from farmers.scope import scope_of
from marketplace.core import geo

from .conftest import member_data

POST_OFFICE = Consent.Purpose.POST_OFFICE


def _post_office_sees(world) -> tuple[int, bool]:
    client = world.client("post_office")
    detail = client.get(reverse("farmers:member-detail", args=[world.member.pk])).status_code
    listed = "Nguyễn Thị Lan" in client.get(reverse("farmers:members")).content.decode()
    return detail, listed


@pytest.mark.django_db
def test_the_post_office_sees_a_member_only_with_consent_and_never_a_draft(world):
    branch = world.users["branch"]
    # A draft that consented to selling only: not the post office's.
    assert _post_office_sees(world) == (404, False)
    services.record_consent(actor=branch, role="branch", member=world.member, purpose=POST_OFFICE)
    assert _post_office_sees(world) == (404, False)  # consent, but still a draft
    services.transition(actor=branch, role="branch", member=world.member, action="submit")
    world.member.refresh_from_db()
    assert _post_office_sees(world) == (200, True)
    scope = scope_of(world.users["post_office"])
    assert scope.allows(world.member)
    services.withdraw_consent(actor=branch, role="branch", member=world.member, purpose=POST_OFFICE)
    assert _post_office_sees(world) == (404, False)
    assert not scope.allows(world.member)
    # The member's own branch and the province see them whatever the consent.
    url = reverse("farmers:member-detail", args=[world.member.pk])
    assert world.client("branch").get(url).status_code == 200
    assert world.client("province").get(url).status_code == 200


@pytest.mark.django_db
def test_a_commune_branch_registers_members_of_its_own_commune_only(world):
    krong_pac = geo.find_commune(66, "Krông Pắc")
    client = world.client("branch")
    form = client.get(reverse("farmers:member-create")).context["form"]
    assert [code for code, _name in form.fields["commune_code"].choices] == [
        world.ea_kiet.commune_code
    ]
    data = member_data(cccd="066178004321", phone="0905 111 222", commune_code=krong_pac)
    with translation.override("vi"), pytest.raises(ValidationError) as refused:
        services.register_member(actor=world.users["branch"], role="branch", data=data)
    assert "commune_code" in refused.value.message_dict
    assert "xã" in " ".join(refused.value.message_dict["commune_code"]).lower()
    # Moving one of its members to another commune is refused the same way.
    with pytest.raises(ValidationError):
        services.update_member(
            actor=world.users["branch"], role="branch", member=world.member,
            data={"commune_code": krong_pac},
        )  # fmt: skip
    # The provincial association registers anywhere in its province, not beyond it.
    province = world.users["province"]
    member = services.register_member(actor=province, role="province", data=data)
    assert member.commune_code == krong_pac
    chu_se = member_data(
        cccd="064178004321", phone="0905 333 444", branch=world.chu_se,
    )  # fmt: skip
    with pytest.raises(ValidationError):
        services.register_member(actor=province, role="province", data=chu_se)
    # The post office does not register members at all.
    with pytest.raises(PermissionDenied):
        services.register_member(actor=world.users["post_office"], role="post_office", data=data)
    assert world.client("post_office").get(reverse("farmers:member-create")).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("number", ["+1 650 253 0000", "+44 20 7946 0958", "+33 1 42 68 53 00"])
def test_member_and_buyer_phones_are_vietnamese_numbers_only(world, number):
    with translation.override("vi"), pytest.raises(ValidationError) as refused:
        services.register_member(
            actor=world.users["branch"], role="branch",
            data=member_data(cccd="066178004321", phone=number),
        )  # fmt: skip
    assert "số điện thoại" in str(refused.value.message_dict["phone"]).lower()
    # The buyer's address book (Oscar's form) and the checkout address share the rule.
    UserAddressForm = get_class("address.forms", "UserAddressForm")
    form = UserAddressForm(
        user=world.users["buyer"],
        data={"first_name": "Lan", "line1": "12 Lê Lợi", "country": "VN", "phone_number": number},
    )
    assert not form.is_valid()
    assert "phone_number" in form.errors
    good = UserAddressForm(
        user=world.users["buyer"],
        data={
            "first_name": "Lan",
            "line1": "12 Lê Lợi",
            "country": "VN",
            "phone_number": "0905123404",
        },
    )
    good.is_valid()
    assert "phone_number" not in good.errors


@pytest.mark.django_db
def test_opening_a_member_page_writes_one_access_log_entry(world):
    client = world.client("branch")
    page = client.get(reverse("farmers:member-detail", args=[world.member.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    thumbnails = [
        reverse("farmers:member-thumbnail", args=[world.member.pk, document.pk])
        for document in world.member.documents.all()
    ]
    for url in thumbnails:  # what the browser fetches for the page: no entry each
        assert url in html
        assert client.get(url).status_code == 200
    entries = list(world.member.accesses.values_list("what", "user__email"))
    assert entries == [(PersonalDataAccess.What.ID_THUMBNAIL, "branch@nongsan.test")]
    # Opening one full ID photo is one more entry.
    client.get(reverse("farmers:member-document", args=[world.member.pk, world.id_photo.pk]))
    assert world.member.accesses.count() == 2
    # Staff who may not see ID photos see "restricted" and leave no entry.
    world.client("province").get(reverse("farmers:member-detail", args=[world.member.pk]))
    assert world.member.accesses.count() == 2
