"""The OpenAPI schema drf-spectacular gives of the endpoints."""

import pytest

pytest.importorskip("drf_spectacular", reason="the OpenAPI schema needs drf-spectacular")


@pytest.fixture
def schema():
    # tests/settings.py sets drf-spectacular's AutoSchema as DEFAULT_SCHEMA_CLASS.
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    generated = SchemaGenerator().get_schema(request=None, public=True)
    # What drf-spectacular could not describe (it leaves some of it out).
    assert not GENERATOR_STATS._error_cache
    assert not GENERATOR_STATS._warn_cache
    return generated


def test_the_bulk_upsert_action_is_described(schema):
    operation = schema["paths"]["/api/accounts/bulk-upsert/"]["post"]
    assert {p["name"] for p in operation["parameters"]} == {"unique_fields", "dry_run"}
    assert set(operation["requestBody"]["content"]) == {
        "application/json",
        "multipart/form-data",
    }
    assert operation["requestBody"]["content"]["application/json"]["schema"]["type"] == "array"
    assert set(operation["responses"]) == {"200", "202", "400"}
    result = schema["components"]["schemas"]["BulkUpsertResult"]
    assert set(result["properties"]) == {"dry_run", "committed", "totals", "records", "errors"}


def test_a_project_viewset_keeps_its_own_operations(schema):
    assert "/api/transactions/bulk-upsert/" in schema["paths"]
    assert {"get", "post"} <= set(schema["paths"]["/api/transactions/"])


def test_the_job_endpoints_are_described(schema):
    paths = schema["paths"]
    assert "/api/import-jobs/{id}/" in paths
    for name in ("confirm", "cancel", "run-again"):
        operation = paths[f"/api/import-jobs/{{id}}/{name}/"]["post"]
        assert set(operation["responses"]) == {"200", "409"}
    report = paths["/api/import-jobs/{id}/report/"]["get"]["responses"]["200"]
    assert set(report["content"]) == {"text/csv"}
    detail = paths["/api/import-jobs/{id}/"]["get"]["responses"]["200"]
    assert detail["content"]["application/json"]["schema"]["$ref"].endswith("/ImportJob")


def test_the_revert_preview_is_described(schema):
    operation = schema["paths"]["/api/import-jobs/{id}/revert-preview/"]["get"]
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/RevertPreview")
    preview = schema["components"]["schemas"]["RevertPreview"]
    assert set(preview["properties"]) == {
        "revertable",
        "refusal",
        "nothing_to_do",
        "totals",
        "entries",
        "seconds",
        "job",
    }
