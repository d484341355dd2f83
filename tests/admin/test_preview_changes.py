"""The preview tells updates that change something from identical ones, tags included.

Stock's totals count every row that matched a stored record as an update; the
preview says how many of those change a value, lists only rows that change
something or fail, and shows many-to-many changes as the import will make them
(the engine's diff), not as the database reads after the dry run rolled back.
"""

from __future__ import annotations

import csv
import io

import pytest

from tests.admin.conftest import (
    add_transaction,
    csv_file,
    make_staff,
    transaction_line,
    upload,
    url,
)
from tests.testapp.models import FidelityArticle, FidelityTag

ARTICLE_HEADER = "code,title,tags"


@pytest.fixture
def article_client(client, db):
    client.force_login(
        make_staff(
            "articles",
            "testapp.view_fidelityarticle",
            "testapp.add_fidelityarticle",
            "testapp.change_fidelityarticle",
        )
    )
    return client


@pytest.fixture
def stored_articles(db):
    red, blue = (FidelityTag.objects.create(name=name) for name in ("red", "blue"))
    articles = {}
    for code, title, tags in [
        ("A", "same", [red]),
        ("B", "old title", [red]),
        ("C", "tags only", [red]),
    ]:
        articles[code] = FidelityArticle.objects.create(code=code, title=title)
        articles[code].tags.set(tags)
    return {"red": red, "blue": blue}


def upload_articles(client, lines):
    return upload(
        client,
        csv_file(lines, name="articles.csv", header=ARTICLE_HEADER),
        model="fidelityarticle",
        import_id_fields=["code"],
    )


def cells_of(row):
    return [(cell.column, cell.old, cell.new) for cell in row.changed_cells]


def test_identical_updates_are_counted_apart_and_not_listed(article_client, stored_articles):
    response = upload_articles(
        article_client, ["A,same,red", "B,new title,red", "C,tags only,blue", "D,fresh,blue"]
    )

    assert response.status_code == 200
    preview = response.context["result"]
    assert (preview.totals["update"], preview.totals["new"]) == (3, 1)  # stock's totals
    assert (preview.changing_updates, preview.identical_updates) == (2, 1)
    assert [(row.number, row.import_type) for row in preview.rows] == [
        (2, "update"),
        (3, "update"),
        (4, "new"),
    ]
    page = response.content.decode()
    assert "3 rows matched stored records: 2 change a value, 1 identical." in page
    assert '<td class="total-update">3</td>' in page


def test_tag_changes_show_on_updated_and_new_rows(article_client, stored_articles):
    response = upload_articles(article_client, ["C,tags only,blue", "D,fresh,blue"])

    changed_tags, new = response.context["result"].rows
    assert cells_of(changed_tags) == [("tags", "red", "blue")]
    assert {cell.column: cell.new for cell in new.cells} == {
        "code": "D",
        "title": "fresh",
        "tags": "blue",
    }
    page = response.content.decode()
    assert '<td class="cell-changed"><del>red</del> → <ins>blue</ins></td>' in page
    assert '<td class="cell-new">blue</td>' in page
    # A dry run: nothing was written.
    assert list(FidelityArticle.objects.get(code="C").tags.values_list("name", flat=True)) == [
        "red"
    ]
    assert not FidelityArticle.objects.filter(code="D").exists()


def test_preview_csv_names_tag_changes(article_client, stored_articles):
    response = upload_articles(article_client, ["A,same,red", "C,tags only,blue", "D,fresh,blue"])
    download = article_client.get(
        url("fidelityarticle", "import_preview_csv"),
        {"token": response.context["preview_token"]},
    )

    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert rows[1:] == [
        ["1", "update", "", ""],
        ["2", "update", "tags", ""],
        ["3", "new", "code;title;tags", ""],
    ]


def test_the_first_rows_shown_are_the_ones_that_change(settings, article_client, stored_articles):
    settings.ADMIN_BULK_UPSERT = {**settings.ADMIN_BULK_UPSERT, "PREVIEW_ROWS": 2}
    FidelityArticle.objects.bulk_create(
        FidelityArticle(code=f"S{i}", title="same") for i in range(5)
    )
    lines = [f"S{i},same," for i in range(5)] + ["B,new title,red", "D,fresh,", "E,also new,"]
    response = upload_articles(article_client, lines)

    preview = response.context["result"]
    assert preview.identical_updates == 5
    assert [row.number for row in preview.rows] == [6, 7]
    assert preview.hidden_rows == 1
    assert "Showing the first 2 of 3 rows that change something or fail" in (
        response.content.decode()
    )


def test_failed_rows_are_listed_with_the_cell_at_fault(importer_client, accounts):
    add_transaction(accounts["A1"], 1, "10.000", "rent")
    response = upload(
        importer_client,
        csv_file(
            [
                transaction_line("A1", 1, "10.000", "rent"),  # unchanged: skipped
                transaction_line("A1", 2, "not a number", "broken"),
            ]
        ),
    )

    (failed,) = response.context["result"].rows
    assert failed.number == 2
    assert [cell.column for cell in failed.cells if cell.error] == ["amount"]
    page = response.content.decode()
    assert '<tr class="error">' in page
    assert '<td class="cell-error"' in page
