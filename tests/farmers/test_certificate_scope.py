"""Association staff verify certificates of the producers in their scope, and only those.

A commune branch covers its commune, a provincial association its province; post-office
staff onboard farmers but never verify certificates (403); a certificate outside the
caller's scope is 404; farmers and buyers get 403; anonymous visitors are sent to sign in.
"""

import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext

from farmers.models import Organisation
from farmers.services import assign_staff
from marketplace.certificates import services
from marketplace.demo.base import ensure_user
from marketplace.models import Certificate, SearchEntry
from tests.marketplace.test_certificates import (
    NEIGHBOUR_BRANCH,
    POST_OFFICE,
    ROLES,
    STAFF_IN_SCOPE,
    STAFF_OUT_OF_SCOPE,
    make_people,
    producer,
    product,
    sign_in,
    submit,
    user,
)

PROVINCE_STAFF = "canbo.tinh@nongsan.test"


@pytest.fixture
def people(demo):
    """Every role, signed in on demand (see tests/marketplace/test_certificates.py)."""
    return make_people()


def _status(certificate) -> str:
    certificate.refresh_from_db()
    return certificate.status


@pytest.mark.django_db
def test_staff_certificate_list_for_every_role(people):
    in_scope = submit(number="OCOP-KP-1")  # Krông Pắc
    expected = dict.fromkeys(ROLES, 403) | {
        "anonymous": 302,
        "staff_in_scope": 200,
        "staff_out_of_scope": 200,
        "neighbour_branch": 200,
        "operator": 200,
    }
    assert people.codes("get", "/can-bo/chung-nhan/") == expected

    def page(role):
        return people.client(role).get("/can-bo/chung-nhan/").content.decode()

    assert "OCOP-KP-1" in page("staff_in_scope")
    assert f'action="/can-bo/chung-nhan/{in_scope.pk}/duyet/"' in page("staff_in_scope")
    for role in ("staff_out_of_scope", "neighbour_branch"):
        assert "OCOP-KP-1" not in page(role)
    # The demo's pending VietGAP of Chợ Đồn (Thái Nguyên) is nobody's here but the operator's.
    assert "VietGAP-TT-22-07-19-0023" not in page("staff_in_scope")
    operator = page("operator")
    assert "OCOP-KP-1" in operator and "VietGAP-TT-22-07-19-0023" in operator


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "data", "done"),
    [("duyet", {}, "verified"), ("tu-choi", {"reason": "Bản quét không rõ"}, "rejected")],
    ids=["verify", "reject"],
)
def test_staff_verify_and_reject_for_every_role(people, action, data, done):
    expected = {
        "anonymous": 302,
        "buyer": 403,
        "owner": 403,
        "other_farmer": 403,
        "staff_in_scope": 302,
        "staff_out_of_scope": 404,
        "neighbour_branch": 404,
        "post_office": 403,
        "operator": 302,
    }
    for n, role in enumerate(ROLES):
        certificate = submit(number=f"OCOP-KP-{action}-{n}")
        url = f"/can-bo/chung-nhan/{certificate.pk}/{action}/"
        assert people.codes("post", url, data, [role]) == {role: expected[role]}
        allowed = role in ("staff_in_scope", "operator")
        assert _status(certificate) == (done if allowed else "pending"), role


@pytest.mark.django_db
def test_staff_in_scope_verifies_and_the_badge_appears(people):
    certificate = submit()
    client = people.client("staff_in_scope")
    response = client.post(f"/can-bo/chung-nhan/{certificate.pk}/duyet/", follow=True)
    assert response.redirect_chain[-1] == ("/can-bo/chung-nhan/", 302)
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VERIFIED
    assert certificate.verified_by == user(STAFF_IN_SCOPE)
    assert SearchEntry.objects.get(product__upc="NS0005").has_ocop is True
    # Twice: refused with a message, nothing changes.
    again = client.post(f"/can-bo/chung-nhan/{certificate.pk}/duyet/", follow=True)
    assert again.status_code == 200
    assert _status(certificate) == Certificate.Status.VERIFIED


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   "])
def test_staff_rejection_needs_a_reason(people, reason):
    certificate = submit()
    response = people.client("staff_in_scope").post(
        f"/can-bo/chung-nhan/{certificate.pk}/tu-choi/", {"reason": reason}
    )
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert gettext("Please tell the producer why the certificate is rejected.") in page
    assert _status(certificate) == Certificate.Status.PENDING


@pytest.mark.django_db
def test_staff_reject_form_outside_the_scope_is_404(people):
    certificate = submit()
    url = f"/can-bo/chung-nhan/{certificate.pk}/tu-choi/"
    assert people.client("staff_in_scope").get(url).status_code == 200
    assert people.client("neighbour_branch").get(url).status_code == 404
    assert people.client("staff_out_of_scope").get(url).status_code == 404
    assert people.client("post_office").get(url).status_code == 403
    assert (
        people.client("staff_in_scope").get("/can-bo/chung-nhan/999999/tu-choi/").status_code == 404
    )
    # A GET never verifies.
    assert (
        people.client("staff_in_scope")
        .get(f"/can-bo/chung-nhan/{certificate.pk}/duyet/")
        .status_code
        == 405
    )
    assert _status(certificate) == Certificate.Status.PENDING


@pytest.mark.django_db
def test_provincial_association_covers_its_whole_province(demo, client):
    assign_staff(
        user=ensure_user(PROVINCE_STAFF, "Quang", "Hà"),
        organisation=Organisation.objects.get(name="Hội Nông dân tỉnh Đắk Lắk"),
    )
    krongpac = submit(number="OCOP-KP")
    eakiet = submit(number="OCOP-EK", producer=producer("eakiet"), products=[product("NS0002")])
    chuse = submit(number="OCOP-CS", producer=producer("chuse"), products=[product("NS0010")])
    sign_in(client, PROVINCE_STAFF)
    page = client.get("/can-bo/chung-nhan/").content.decode()
    assert "OCOP-KP" in page and "OCOP-EK" in page and "OCOP-CS" not in page
    assert client.post(f"/can-bo/chung-nhan/{chuse.pk}/duyet/").status_code == 404
    assert client.post(f"/can-bo/chung-nhan/{eakiet.pk}/duyet/").status_code == 302
    assert _status(eakiet) == Certificate.Status.VERIFIED
    assert _status(chuse) == Certificate.Status.PENDING
    assert services.can_verify(user(PROVINCE_STAFF), krongpac) is True


@pytest.mark.django_db
def test_branch_covers_its_commune_only(people):
    eakiet = submit(number="OCOP-EK", producer=producer("eakiet"), products=[product("NS0002")])
    krongpac = submit(number="OCOP-KP")
    neighbour = user(NEIGHBOUR_BRANCH)  # the demo's Ea Kiết branch
    assert services.can_verify(neighbour, eakiet) is True
    assert services.can_verify(neighbour, krongpac) is False
    assert services.can_verify(user(STAFF_IN_SCOPE), krongpac) is True
    assert services.can_verify(user(STAFF_OUT_OF_SCOPE), krongpac) is False


@pytest.mark.django_db
def test_post_office_staff_never_verify_even_in_their_province(people):
    certificate = submit()  # Krông Pắc is in Đắk Lắk, the post office's province
    assert services.can_verify(user(POST_OFFICE), certificate) is False
    client = people.client("post_office")
    assert client.get("/can-bo/chung-nhan/").status_code == 403
    assert client.post(f"/can-bo/chung-nhan/{certificate.pk}/duyet/").status_code == 403
    assert (
        client.post(f"/can-bo/chung-nhan/{certificate.pk}/tu-choi/", {"reason": "x"}).status_code
        == 403
    )
    assert client.get(f"/chung-nhan/{certificate.pk}/").status_code == 404
    assert _status(certificate) == Certificate.Status.PENDING
    # The post office still reaches its own staff area.
    assert client.get("/can-bo/").status_code == 200


@pytest.mark.django_db
def test_staff_see_pending_certificates_in_scope_on_the_public_page(people):
    certificate = submit()
    client = people.client("staff_in_scope")
    response = client.get(f"/chung-nhan/{certificate.pk}/")
    assert response.status_code == 200
    assert "Chờ xác minh" in response.content.decode()  # "Waiting for verification"
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.django_db
def test_staff_queue_runs_the_same_number_of_queries_whatever_its_length(people):
    client = people.client("staff_in_scope")
    client.get("/can-bo/chung-nhan/")  # warm up: the session's basket is opened once

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/can-bo/chung-nhan/")
        assert response.status_code == 200
        return len(queries), response.content.decode().count('/duyet/"')

    for n in range(5):
        submit(number=f"OCOP-S-{n}", products=[product("NS0005"), product("NS0006")])
    small, rows_small = count()
    for n in range(5, 25):
        submit(number=f"OCOP-S-{n}", products=[product("NS0007")])
    large, rows_large = count()
    assert (rows_small, rows_large) == (5, 20)
    assert small == large


@pytest.mark.django_db
def test_a_deactivated_staff_member_loses_the_right_to_verify(people):
    certificate = submit()
    client = people.client("staff_in_scope")  # signed in before the account is closed
    staff = user(STAFF_IN_SCOPE)
    staff.is_active = False
    staff.save()
    assert services.can_verify(staff, certificate) is False
    response = client.post(f"/can-bo/chung-nhan/{certificate.pk}/duyet/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert _status(certificate) == Certificate.Status.PENDING
