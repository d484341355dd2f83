"""Builders for the column mapping tests: the mapping admin site, product files, the step."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

#: Verbose names in another case, and one column the resource does not know.
VERBOSE_HEADER = "SKU,CODE,NAME,PRICE,Notes"
VERBOSE_ROWS = ["A-1,C1,Chair,49.90,keep dry", "A-2,C2,Table,120.00,"]


@pytest.fixture
def mapping_site(settings, admin_site_urls):
    """``tests.adminapp.mapping_admin``'s site: Product with ``CatalogueResource``."""
    settings.ROOT_URLCONF = "tests.adminapp.mapping_admin"
    return admin_site_urls


def product_file(header=VERBOSE_HEADER, rows=VERBOSE_ROWS, name="products.csv"):
    text = "\n".join([header, *rows]) + "\n"
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def chosen(response):
    """``{header: field}`` the mapping page shows selected."""
    form = response.context["mapping_form"]
    return {row["header"]: row["field"].value() or "" for row in form.rows}


def continue_mapping(client, response, token=None, **changes):
    """Post the mapping page back as shown, with ``changes`` (``{header: field}``) made."""
    form = response.context["mapping_form"]
    data = {}
    for name, value in response.context["carried"]:
        data.setdefault(name, []).append(value)
    data[response.context["token_field"]] = token or response.context["token"]
    for index, header in enumerate(form.headers):
        value = changes.get(header, form[str(index)].value() or "")
        data[f"column_map-{index}"] = value
    return client.post(response.wsgi_request.path, data)
