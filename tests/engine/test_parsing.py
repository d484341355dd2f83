"""The date fast path must give exactly what DIE's widgets give, errors included."""

import pytest
from import_export.widgets import DateTimeWidget, DateWidget

from admin_bulk_upsert.parsing import fast_date_parsing

CELLS = [
    "2024-01-05 10:00:00",
    "2024-02-29 23:59:59",
    "2024-10-27 02:30:00",
    "2024-01-05 10:00",
    "2024-01-05",
    "2024-1-5 1:2:3",
    "05/01/2024",
    "2024-02-30 10:00:00",
    "2023-02-29",
    "",
    None,
    "nonsense",
]


def outcome(widget, cell):
    try:
        return ("value", widget.clean(cell))
    except Exception as exc:
        return ("error", type(exc), str(exc))


@pytest.mark.parametrize("widget_class", [DateTimeWidget, DateWidget])
@pytest.mark.parametrize("cell", CELLS)
def test_fast_path_matches_the_widget(widget_class, cell, settings):
    widget = widget_class()
    expected = outcome(widget, cell)
    with fast_date_parsing([widget]):
        assert widget._parse_value is not widget_class._parse_value
        assert outcome(widget, cell) == expected
    assert "_parse_value" not in vars(widget)
    assert "clean" not in vars(widget)


def test_a_widget_with_its_own_format_keeps_its_path():
    widget = DateWidget(format="%d/%m/%Y")
    with fast_date_parsing([widget]):
        assert "_parse_value" not in vars(widget)
        assert str(widget.clean("05/01/2024")) == "2024-01-05"


def test_datetimes_are_made_aware_in_the_zone_current_when_the_import_starts(settings):
    from django.utils import timezone

    widget = DateTimeWidget()
    with timezone.override("Asia/Karachi"), fast_date_parsing([widget]):
        value = widget.clean("2024-01-05 10:00:00")
    assert value.utcoffset().total_seconds() == 5 * 3600
