"""Files in both shapes: local folders (the embedded default) and an S3-compatible store
(MinIO in docker-compose.yml), here a local S3 API server started by the test run (moto;
no network). Private files (certificate scans until verified, label PDFs) are read only by
their permission-checked views; public photos are served at MEDIA_URL from the public
bucket, which is what the compose proxy (deploy/nginx.conf) answers /media/ from."""

import urllib.error
import urllib.request
from io import BytesIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from config.settings import s3_storages
from marketplace.certificates import services as certificate_services
from marketplace.core.storage import NoPublicURL, private_storage
from marketplace.models import Certificate, ProducerPhoto
from tests.marketplace.test_certificates import (
    OPERATOR,
    PDF,
    make_people,
    producer,
    submit,
    user,
)
from traceability import labels
from traceability.models import LabelSheet, Lot

from .conftest import MEDIA_BUCKET, PRIVATE_BUCKET  # the buckets of the s3_server fixture


@pytest.fixture(params=["local", "s3"])
def backend(request, settings):
    """Each test runs on local folders and on the S3 store."""
    if request.param == "s3":
        endpoint, client = request.getfixturevalue("s3_server")
        settings.STORAGES = {
            **settings.STORAGES,
            **s3_storages(
                endpoint, "test", "test-secret", "us-east-1", MEDIA_BUCKET, PRIVATE_BUCKET
            ),
        }
        return request.param, endpoint, client
    return request.param, None, None


def keys(client, bucket) -> set:
    return {item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", [])}


@pytest.mark.django_db
def test_a_pending_certificate_scan_is_private_until_verified(demo, backend):
    kind, endpoint, s3 = backend
    certificate = submit(scan=SimpleUploadedFile("giay.pdf", PDF, "application/pdf"))
    name = certificate.scan.name
    assert private_storage.exists(name) and not default_storage.exists(name)
    with pytest.raises(NoPublicURL):
        certificate.scan.url  # noqa: B018  (a private file has no URL at all)
    if kind == "s3":
        assert name in keys(s3, PRIVATE_BUCKET) and name not in keys(s3, MEDIA_BUCKET)
        # Nobody reads the private bucket without the app's keys.
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{endpoint}/{PRIVATE_BUCKET}/{name}", timeout=10)
        assert refused.value.code == 403
    url = f"/chung-nhan/{certificate.pk}/ban-quet/"
    people = make_people()
    for role in ("anonymous", "buyer", "other_farmer", "staff_out_of_scope", "post_office"):
        assert people.client(role).get(url).status_code == 404, role
    for role in ("owner", "staff_in_scope", "operator"):
        response = people.client(role).get(url)
        assert response.status_code == 200, role
        assert b"".join(response.streaming_content) == PDF
        assert response["Cache-Control"] == "private, no-store"
    # Once verified the certificate is public, and so is its scan (through the same view).
    certificate_services.verify_certificate(certificate=certificate, by=user(OPERATOR))
    response = people.client("anonymous").get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF


@pytest.mark.django_db
def test_a_label_pdf_goes_only_to_the_lots_farmer_and_the_operator(demo, backend):
    kind, _endpoint, s3 = backend
    lot = Lot.objects.get(code="DEMO-NS0005")
    sheet = LabelSheet.objects.create(lot=lot, size="L7165", count=8)
    assert labels.make_label_sheet(sheet.pk, "http://testserver", "vi") == "done"
    sheet.refresh_from_db()
    assert private_storage.exists(sheet.file.name)
    assert not default_storage.exists(sheet.file.name)
    if kind == "s3":
        assert sheet.file.name in keys(s3, PRIVATE_BUCKET)
    url = f"/lo-hang/{lot.pk}/nhan/{sheet.pk}/tai-ve.pdf"
    people = make_people()
    anonymous = people.client("anonymous").get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    for role in ("buyer", "other_farmer", "staff_out_of_scope"):
        assert people.client(role).get(url).status_code in (403, 404), role
    for role in ("owner", "operator"):
        response = people.client(role).get(url)
        assert response.status_code == 200, role
        assert b"".join(response.streaming_content).startswith(b"%PDF")


def _jpeg() -> bytes:
    out = BytesIO()
    Image.new("RGB", (40, 30), (40, 120, 60)).save(out, "JPEG")
    return out.getvalue()


@pytest.mark.django_db
def test_public_photos_are_served_at_media_url_from_the_public_store(demo, backend, client):
    """A producer's photo, DEBUG off: the page links it under MEDIA_URL, and the file is
    where the server in front of the app reads it (MEDIA_ROOT, or the public bucket that
    nginx proxies /media/ to, read without credentials)."""
    kind, endpoint, s3 = backend
    shop = producer("krongpac")
    data = _jpeg()
    photo = ProducerPhoto(producer=shop)
    photo.image.save("vuon.jpg", ContentFile(data), save=True)
    page = client.get(f"/nha-san-xuat/{shop.slug}/").content.decode()
    name = photo.image.name
    assert photo.image.url == f"/media/{name}"
    assert f'<img src="/media/{name}"' in page
    if kind == "s3":
        assert name in keys(s3, MEDIA_BUCKET) and name not in keys(s3, PRIVATE_BUCKET)
        with urllib.request.urlopen(f"{endpoint}/{MEDIA_BUCKET}/{name}", timeout=10) as answer:
            assert answer.read() == data  # what the proxy gets, anonymously
    else:
        with default_storage.open(name) as handle:
            assert handle.read() == data


def test_private_storage_never_gives_a_url(backend):
    with pytest.raises(NoPublicURL):
        storages["private"].url("certificates/x.pdf")


@pytest.mark.django_db
def test_a_scan_missing_from_the_store_is_a_404_not_a_500(demo, backend):
    certificate = submit(scan=SimpleUploadedFile("giay.pdf", PDF, "application/pdf"))
    private_storage.delete(certificate.scan.name)
    assert Certificate.objects.filter(pk=certificate.pk).exists()
    operator = make_people().client("operator")
    assert operator.get(f"/chung-nhan/{certificate.pk}/ban-quet/").status_code == 404
