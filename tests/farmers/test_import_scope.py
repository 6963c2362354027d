"""Every import URL × every role: an import is seen by its organisation (a provincial
association also sees its branches'), and the operator; everyone else gets 404 — on the
page, the progress JSON, the report and the original file alike. Anonymous visitors are
sent to sign in."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from farmers import imports, selectors
from farmers.models import Member, MemberImport

from .conftest import ROLES
from .test_imports import person, xlsx

IMPORT_VIEWS = ("import-detail", "import-progress", "import-report", "import-file")
STAFF = ("branch", "neighbour_branch", "province", "post_office", "other_branch",
         "other_province", "operator")  # fmt: skip


def _import(world, role, *, run=True):
    user = world.users[role]
    membership = selectors.membership_for(user)
    record = imports.create_import(
        actor=user,
        role=selectors.role_for(user, membership),
        membership=membership,
        upload=SimpleUploadedFile("ds.xlsx", xlsx([person(300 + MemberImport.objects.count())])),
    )
    if run:
        mapping = imports.guess_mapping(record.headers)
        record.mapping = mapping
        record.queued_at = record.created_at
        record.save()
        assert imports.run_import(record.pk) == "done"
    return record


def _codes(world, url, method="get", data=None):
    return {role: getattr(world.client(role), method)(url, data).status_code for role in ROLES}


@pytest.mark.django_db
@pytest.mark.parametrize("name", IMPORT_VIEWS)
@pytest.mark.parametrize(
    ("owner", "seen_by"),
    [
        ("branch", {"branch", "province", "operator"}),  # a branch: itself, its province
        ("post_office", {"post_office", "operator"}),
        ("province", {"province", "operator"}),  # not its branches: the province's own
    ],
)
def test_every_import_url_is_404_outside_the_scope(world, name, owner, seen_by):
    record = _import(world, owner)
    url = reverse(f"farmers:{name}", args=[record.pk])
    expected = {role: 200 if role in seen_by else 404 for role in ROLES} | {"anonymous": 302}
    assert _codes(world, url) == expected


@pytest.mark.django_db
def test_the_mapping_step_is_404_outside_the_scope_and_starts_nothing(world):
    record = _import(world, "branch", run=False)
    url = reverse("farmers:import-map", args=[record.pk])
    expected = dict.fromkeys(ROLES, 404) | {"anonymous": 302}
    expected |= {"branch": 200, "province": 200, "operator": 200}
    assert _codes(world, url) == expected
    post = {f"col_{index}": key for key, index in imports.guess_mapping(record.headers).items()}
    post["area_unit"] = "m2"
    outside = [role for role, code in expected.items() if code != 200]
    for role in outside:
        assert world.client(role).post(url, post).status_code in (302, 404)
    record.refresh_from_db()
    assert record.awaiting_mapping and not Member.objects.filter(full_name__contains="Thử").exists()


@pytest.mark.django_db
def test_lists_upload_and_template_are_for_staff_who_register_members(world):
    for name in ("imports", "import-new", "import-template"):
        codes = _codes(world, reverse(f"farmers:{name}"))
        assert codes == {
            role: 302 if role == "anonymous" else 404 if role in ("buyer", "farmer") else 200
            for role in ROLES
        }, name
    response = world.client("farmer").post(
        reverse("farmers:import-new"),
        {"file": SimpleUploadedFile("ds.xlsx", xlsx([person(399)]))},
    )
    assert response.status_code == 404 and not MemberImport.objects.exists()


@pytest.mark.django_db
def test_each_staff_member_lists_only_the_imports_of_their_scope(world):
    records = {role: _import(world, role) for role in ("branch", "post_office", "other_branch")}
    seen = {}
    for role in STAFF:
        html = world.client(role).get(reverse("farmers:imports")).content.decode()
        seen[role] = {
            owner
            for owner, record in records.items()
            if reverse("farmers:import-detail", args=[record.pk]) + '"' in html
        }
    assert seen == {
        "branch": {"branch"},
        "neighbour_branch": set(),
        "province": {"branch"},
        "post_office": {"post_office"},
        "other_branch": {"other_branch"},
        "other_province": {"other_branch"},
        "operator": {"branch", "post_office", "other_branch"},
    }
