"""Every member URL × every role: outside the scope is 404, anonymous goes to sign in.

A branch covers its own members and commune, a provincial association its province (the
post office: only members who consented to sharing with it, never drafts), the operator
everything; buyers and farmers never reach staff member pages, and
a farmer reaches only their own record and documents.
"""

import pytest
from django.urls import reverse

from .conftest import IN_SCOPE, OUT_OF_SCOPE, ROLES, jpeg

MEMBER_VIEWS = (
    ("get", "member-detail", False),
    ("get", "member-edit", False),
    ("post", "member-cccd", False),
    ("post", "member-upload", False),
    ("get", "member-document", True),
    ("get", "member-thumbnail", True),
    ("post", "member-transition", False),
    ("post", "member-invite", False),
    ("post", "member-consent", False),
    ("get", "member-history", False),
    ("get", "member-access-log", False),
)


def _url(world, name, with_document, document=None):
    if with_document:
        return reverse(f"farmers:{name}", args=[world.member.pk, (document or world.id_photo).pk])
    return reverse(f"farmers:{name}", args=[world.member.pk])


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "name", "with_document"), MEMBER_VIEWS, ids=lambda v: str(v))
def test_every_member_view_is_404_outside_the_scope(world, method, name, with_document):
    url = _url(world, name, with_document)
    data = {"action": "verify", "purpose": "marketplace"} if method == "post" else None
    codes = {}
    for role in ("anonymous", *OUT_OF_SCOPE):
        response = getattr(world.client(role), method)(url, data)
        codes[role] = response.status_code
        if role == "anonymous":
            assert response["Location"].startswith("/accounts/login/")
    expected = dict.fromkeys(OUT_OF_SCOPE, 404) | {"anonymous": 302}
    assert codes == expected
    # Nothing happened for anyone outside: status, log and documents unchanged.
    world.member.refresh_from_db()
    assert world.member.status == "draft"
    assert not world.member.accesses.exists()
    assert world.member.documents.count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["member-detail", "member-edit", "member-history", "member-access-log"]
)
def test_every_role_in_scope_reaches_the_member_pages(world, name):
    url = _url(world, name, False)
    assert {role: world.client(role).get(url).status_code for role in IN_SCOPE} == dict.fromkeys(
        IN_SCOPE, 200
    )


@pytest.mark.django_db
def test_member_list_and_registration_are_for_staff_only(world):
    for name in ("members", "member-create"):
        url = reverse(f"farmers:{name}")
        codes = {role: world.client(role).get(url).status_code for role in ROLES}
        expected = {
            role: 302 if role == "anonymous" else 200 if role not in ("buyer", "farmer") else 404
            for role in ROLES
        }
        if name == "member-create":
            expected["post_office"] = 403  # the post office does not register members
        assert codes == expected
    listing = reverse("farmers:members")
    for role in IN_SCOPE:
        assert "Nguyễn Thị Lan" in world.client(role).get(listing).content.decode()
    for role in ("neighbour_branch", "other_branch", "other_province"):
        assert "Nguyễn Thị Lan" not in world.client(role).get(listing).content.decode()


@pytest.mark.django_db
def test_id_photos_are_for_the_operator_and_the_members_own_branch_only(world):
    url = _url(world, "member-document", True)
    codes = {role: world.client(role).get(url).status_code for role in IN_SCOPE}
    assert codes == {"branch": 200, "operator": 200, "province": 403}
    # A farm photo is for everyone in scope, and not logged.
    farm = _url(world, "member-thumbnail", True, world.farm_photo)
    assert {role: world.client(role).get(farm).status_code for role in IN_SCOPE} == dict.fromkeys(
        IN_SCOPE, 200
    )
    assert [a.user.email for a in world.member.accesses.all()] == [
        "operator@nongsan.test",
        "branch@nongsan.test",
    ]


@pytest.mark.django_db
def test_a_farmer_reaches_only_their_own_record_and_documents(world):
    from farmers import services
    from farmers.models import MemberDocument

    mine = world.client("farmer")
    assert mine.get(reverse("farmers:my-record")).status_code == 200
    own = services.add_document(
        actor=world.users["farmer"], role="farmer", member=world.other,
        kind=MemberDocument.Kind.FARM_PHOTO, upload=jpeg(),
    )  # fmt: skip
    assert mine.get(reverse("farmers:my-thumbnail", args=[own.pk])).status_code == 200
    for document in (world.id_photo, world.farm_photo):  # someone else's
        assert mine.get(reverse("farmers:my-document", args=[document.pk])).status_code == 404
        assert mine.get(reverse("farmers:my-thumbnail", args=[document.pk])).status_code == 404
    for role in ("buyer", "branch", "operator"):  # not members themselves
        assert world.client(role).get(reverse("farmers:my-record")).status_code == 404
    anonymous = world.client("anonymous").get(reverse("farmers:my-record"))
    assert anonymous.status_code == 302
