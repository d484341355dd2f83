"""Input the endpoint cannot import: a 400 whose body says why, and nothing written."""

import pytest
from django.urls import reverse

from tests.testapp.models import Account

pytestmark = pytest.mark.django_db

URL = "account-bulk-upsert"


def _post(api, data, query=""):
    response = api.post(reverse(URL) + query, data, format="json")
    assert response.status_code == 400, response.content
    assert not Account.objects.exists()
    return response.json()


def test_not_a_list(api):
    body = _post(api, {"number": "A1"})
    assert body == {"detail": "Send a JSON list of objects.", "code": "not_a_list"}


def test_a_record_that_is_not_an_object(api):
    body = _post(api, [{"number": "A1"}, "A2"])
    assert body["code"] == "not_an_object"
    assert body["index"] == 1


def test_an_unknown_field(api):
    body = _post(api, [{"number": "A1", "nmae": "typo"}])
    assert body["code"] == "unknown_field"
    assert body["unknown_fields"] == ["nmae"]
    assert body["detail"] == "Unknown field(s): nmae. The fields are: number, name, active."


def test_an_unknown_field_in_a_later_record(api):
    body = _post(api, [{"number": "A1"}, {"number": "A2", "colour": "red"}])
    assert body["unknown_fields"] == ["colour"]


def test_records_with_different_fields(api):
    # A missing field would blank the record's value: refused rather than guessed.
    body = _post(api, [{"number": "A1", "name": "One"}, {"number": "A2"}])
    assert body["code"] == "fields_differ"
    assert body["index"] == 1


def test_an_unknown_key_field(api):
    body = _post(api, [{"number": "A1"}], query="?unique_fields=number,colour")
    assert body["code"] == "unknown_key_field"
    assert body["unknown_fields"] == ["colour"]
    assert "unique_fields may name: " in body["detail"]


def test_a_key_field_the_records_lack(api):
    body = _post(api, [{"name": "One"}])
    assert body == {
        "detail": "The records lack the key field(s): number.",
        "code": "missing_key_field",
        "missing_fields": ["number"],
    }


def test_malformed_json(api):
    response = api.post(reverse(URL), b'[{"number": "A1",]', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


def test_nan_is_not_a_number(api):
    response = api.post(reverse(URL), b'[{"number": NaN}]', content_type="application/json")
    assert response.status_code == 400
    assert "NaN" in response.json()["detail"]


def test_an_empty_list(api):
    assert _post(api, [])["code"] == "empty"


def test_a_bad_dry_run_flag(api):
    body = _post(api, [{"number": "A1"}], query="?dry_run=perhaps")
    assert body["code"] == "invalid_parameter"


def test_too_many_records_for_one_request(api, settings):
    settings.ADMIN_BULK_UPSERT = {"API_SYNC_MAX_ROWS": 2}
    body = _post(api, [{"number": "A1"}, {"number": "A2"}, {"number": "A3"}])
    assert body == {
        "detail": "3 records is more than the 2 one request may import, "
        "and import jobs are not enabled (BACKGROUND_IMPORTS).",
        "code": "too_many_records",
        "limit": 2,
    }


def test_a_file_that_cannot_be_read(api):
    import io

    upload = io.BytesIO(b"number,name\n")
    upload.name = "accounts.csv"
    response = api.post(reverse(URL), {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The file has a header row but no data rows.",
        "code": "no_data",
    }


def test_a_form_without_a_file(api):
    response = api.post(reverse(URL), {"records": "x"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["code"] == "no_file"


def test_a_body_larger_than_django_accepts(api, settings):
    # DRF reads a JSON body through request.body, which Django caps; the client gets the
    # API's JSON answer, not Django's HTML error page.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = _post(api, [{"number": f"A{i}", "name": "x" * 20} for i in range(5)])
    assert body == {
        "detail": "The request body is larger than the 100 bytes this server accepts "
        "(DATA_UPLOAD_MAX_MEMORY_SIZE). Send the records as a CSV file, or in several "
        "requests.",
        "code": "too_large",
    }
