"""The S3 adapter against a real SeaweedFS: privacy, parts, presigned links, an unreachable server,
settings, and the web flow on PostgreSQL/SQLite with S3 behind it."""

from __future__ import annotations

import io
import os
import re
import time
import urllib.error
import urllib.request

import pytest

from portail_adapters.bootstrap import build_files
from portail_adapters.files.s3 import S3FileStore
from portail_adapters.settings import SettingsError, load_settings
from portail_domain.model.documents import FolderKind
from portail_domain.model.errors import StorageError
from portail_domain.services.documents import document_tree
from portail_web import create_app
from tests.fixtures_s3 import S3, free_ports
from tests.support import BASE_URL, WebClient, add_subscriber

pytestmark = S3
PDF = b"%PDF-1.7\n" + os.urandom(200_000) + b"\n%%EOF\n"
PASSWORD = "une-phrase-de-passe-solide"


def test_objects_are_private(seaweedfs):
    store = seaweedfs.store()
    store.put("documents/aa/private", io.BytesIO(PDF), content_type="application/pdf")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{seaweedfs.endpoint}/{store.bucket}/documents/aa/private", timeout=5)
    assert refused.value.code in (401, 403)


def test_large_files_go_up_in_parts(seaweedfs):
    store = seaweedfs.store()
    body = os.urandom(17 * 1024 * 1024)
    store.put("documents/bb/large", io.BytesIO(body), content_type="application/pdf", size=len(body))
    head = seaweedfs.client().head_object(Bucket=store.bucket, Key="documents/bb/large")
    assert head["ETag"].strip('"').endswith("-3")  # a multipart ETag: 8 + 8 + 1 MB
    assert head["ContentType"] == "application/pdf"


def test_presigned_link_serves_an_attachment_for_a_short_time(seaweedfs):
    store = seaweedfs.store(presign_seconds=60)
    store.put("documents/cc/letter", io.BytesIO(PDF), content_type="application/pdf")
    url = store.download_url("documents/cc/letter", filename="Relevé été.pdf", content_type="application/pdf")
    assert "X-Amz-Expires=60" in url and "X-Amz-Signature=" in url
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.read() == PDF
        assert response.headers["Content-Disposition"].startswith('attachment; filename="Releve_ete.pdf"')
    tampered = url.replace("documents/cc/letter", "documents/cc/other")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(tampered, timeout=5)


def test_an_unreachable_server_is_a_storage_error_quickly():
    (closed,) = free_ports(1)
    store = S3FileStore("portail", endpoint=f"http://127.0.0.1:{closed}", access_key="k", secret_key="s")
    start = time.monotonic()
    with pytest.raises(StorageError, match="cannot write"):
        store.put("documents/dd/x", io.BytesIO(PDF), content_type="application/pdf")
    with pytest.raises(StorageError):
        store.open("documents/dd/x")
    with pytest.raises(StorageError):
        store.exists("documents/dd/x")
    assert time.monotonic() - start < 15


def test_settings_build_an_s3_store_from_the_url_and_the_aws_variables(seaweedfs, monkeypatch, tmp_path):
    bucket = seaweedfs.new_bucket()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", seaweedfs.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", seaweedfs.secret_key)
    settings = load_settings({"PORTAIL_FILES_URL": f"s3://{bucket}?endpoint={seaweedfs.endpoint}&region=eu-west-3",
                              "PORTAIL_SECRET_KEY": "x" * 40}, create_secret=False)
    store = build_files(settings)
    store.put("documents/ee/x", io.BytesIO(b"%PDF-1.4"), content_type="application/pdf")
    assert seaweedfs.keys(bucket) == ["documents/ee/x"]


@pytest.mark.parametrize(("url", "problem"), [
    ("s3://bucket?endpoint=ftp://host", "is not an http(s):// URL"),
    ("s3://bucket?presign=forever", "presign is a number of seconds"),
    ("s3://bucket?acl=public-read", "unknown option(s) acl"),
])
def test_a_wrong_s3_url_is_one_clear_line(url, problem):
    settings = load_settings({"PORTAIL_FILES_URL": url, "PORTAIL_SECRET_KEY": "x" * 40}, create_secret=False)
    with pytest.raises(SettingsError) as error:
        build_files(settings)
    assert error.value.problems[0].startswith("PORTAIL_FILES_URL: ") and problem in error.value.problems[0]


def test_missing_credentials_stop_start_up_with_one_line(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    settings = load_settings({"PORTAIL_FILES_URL": "s3://bucket?endpoint=http://127.0.0.1:9",
                              "PORTAIL_SECRET_KEY": "x" * 40}, create_secret=False)
    with pytest.raises(SettingsError) as error:
        build_files(settings)
    assert error.value.problems == ["PORTAIL_FILES_URL: no S3 credentials: set AWS_ACCESS_KEY_ID and "
                                    "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)"]


@pytest.fixture
def s3_web(sql_portal, seaweedfs):
    sql_portal.files = seaweedfs.store()
    subscriber = add_subscriber(sql_portal, "100001", email="marie@example.org", password=PASSWORD)
    with WebClient(create_app(sql_portal), base_url=BASE_URL) as client:
        client.login("marie@example.org", PASSWORD)
        yield client, sql_portal, subscriber


def _uploads_folder(portal, subscriber):
    return next(n.folder for n in document_tree(portal, subscriber.id) if n.folder.kind is FolderKind.UPLOADS)


def _upload(client, folder_id, content, name="lettre.pdf"):
    page = f"/documents/dossiers/{folder_id}"
    return client.post(f"{page}/envoyer", data={"csrf_token": client.csrf(page)},
                       files={"file": (name, content, "application/pdf")}, follow_redirects=False)


def test_web_upload_list_download_on_s3(s3_web, seaweedfs):
    client, portal, subscriber = s3_web
    folder = _uploads_folder(portal, subscriber)
    assert _upload(client, folder.id, PDF, "Attestation.pdf").status_code == 303
    page = client.get(f"/documents/dossiers/{folder.id}").text
    link = re.search(r'href="(/documents/[0-9a-f-]{36})"[^>]*>Attestation.pdf<', page).group(1)
    download = client.get(link)
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-disposition"] == 'attachment; filename="Attestation.pdf"'
    assert len(seaweedfs.keys(portal.files.bucket)) == 1


def test_web_download_through_a_presigned_link_after_the_ownership_check(s3_web, seaweedfs):
    client, portal, subscriber = s3_web
    portal.files.presign_seconds = 30
    folder = _uploads_folder(portal, subscriber)
    _upload(client, folder.id, PDF)
    with portal.uow() as uow:
        (document,) = uow.documents.for_subscriber(subscriber.id)
    response = client.get(f"/documents/{document.id}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith(seaweedfs.endpoint)
    with urllib.request.urlopen(response.headers["location"], timeout=5) as s3_response:
        assert s3_response.read() == PDF
    add_subscriber(portal, "100002", email="jean@example.org", password=PASSWORD)
    client.cookies.clear()
    client.login("jean@example.org", PASSWORD)
    assert client.get(f"/documents/{document.id}", follow_redirects=False).status_code == 404  # no link for Jean


def test_s3_down_shows_a_clear_message_and_saves_nothing(s3_web):
    client, portal, subscriber = s3_web
    (closed,) = free_ports(1)
    portal.files = S3FileStore("portail", endpoint=f"http://127.0.0.1:{closed}", access_key="k", secret_key="s")
    folder = _uploads_folder(portal, subscriber)
    response = _upload(client, folder.id, PDF)
    assert response.status_code == 503
    assert "Le stockage des documents ne répond pas. Réessayez dans quelques minutes." in response.text
    with portal.uow() as uow:
        assert uow.documents.for_subscriber(subscriber.id) == []


def test_s3_down_on_download_is_a_503_page(s3_web):
    client, portal, subscriber = s3_web
    folder = _uploads_folder(portal, subscriber)
    _upload(client, folder.id, PDF)
    with portal.uow() as uow:
        (document,) = uow.documents.for_subscriber(subscriber.id)
    (closed,) = free_ports(1)
    portal.files = S3FileStore("portail", endpoint=f"http://127.0.0.1:{closed}", access_key="k", secret_key="s")
    response = client.get(f"/documents/{document.id}")
    assert response.status_code == 503
    assert "Le stockage des documents ne répond pas." in response.text
