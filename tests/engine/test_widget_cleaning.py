"""The date fast path must give exactly what DIE's widgets give, errors included."""

import pytest
from import_export.widgets import CharWidget, DateTimeWidget, DateWidget, DecimalWidget

from admin_bulk_upsert.engine.widget_cleaning import fast_widget_cleaning

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
    # Shapes fromisoformat reads (on some Pythons) but strptime does not, or reads otherwise.
    "2024-01-05 24:00:00",
    "2024-01-05 10:00:60",
    "2024-01-05T10:00:00",
    "2024-01-05 10:00:00+01:00",
    "20240105",
    "0000-01-05 10:00:00",
    # Digits outside ASCII: strptime reads them as numbers.
    "\u0662\u0660\u0662\u0664-01-05 10:00:00",
    "\u0662\u0660\u0662\u0664-01-05",
    "",
    None,
    "nonsense",
]


def outcome(widget, cell):
    try:
        value = widget.clean(cell)
    except Exception as exc:
        return ("error", type(exc), str(exc))
    # repr, not ==: Decimal("12.5") == Decimal("12.50"), but they differ in a diff.
    return ("value", type(value), repr(value))


@pytest.mark.parametrize("use_tz", [True, False])
@pytest.mark.parametrize("widget_class", [DateTimeWidget, DateWidget])
@pytest.mark.parametrize("cell", CELLS)
def test_fast_path_matches_the_widget(widget_class, cell, use_tz, settings):
    settings.USE_TZ = use_tz
    widget = widget_class()
    expected = outcome(widget, cell)
    with fast_widget_cleaning([widget]):
        assert widget._parse_value is not widget_class._parse_value
        assert outcome(widget, cell) == expected
    assert "_parse_value" not in vars(widget)
    assert "clean" not in vars(widget)


def test_a_widget_with_its_own_format_keeps_its_path():
    widget = DateWidget(format="%d/%m/%Y")
    with fast_widget_cleaning([widget]):
        assert "_parse_value" not in vars(widget)
        assert str(widget.clean("05/01/2024")) == "2024-01-05"


def test_datetimes_are_made_aware_in_the_zone_current_when_the_import_starts(settings):
    from django.utils import timezone

    widget = DateTimeWidget()
    with timezone.override("Asia/Karachi"), fast_widget_cleaning([widget]):
        value = widget.clean("2024-01-05 10:00:00")
    assert value.utcoffset().total_seconds() == 5 * 3600


DECIMAL_CELLS = [
    "12",
    " 12.50 ",
    "-0.001",
    "1e3",
    "1,000.5",
    "12,5",
    "abc",
    "",
    "   ",
    None,
    7,
    2.5,
]


@pytest.mark.parametrize("cell", DECIMAL_CELLS)
def test_decimal_fast_path_matches_the_widget(cell):
    widget = DecimalWidget()
    expected = outcome(widget, cell)
    with fast_widget_cleaning([widget]):
        assert "clean" in vars(widget)
        assert outcome(widget, cell) == expected
    assert "clean" not in vars(widget)


@pytest.mark.parametrize(
    "overrides",
    [{"USE_THOUSAND_SEPARATOR": True}, {"LANGUAGE_CODE": "de"}],
    ids=["thousand-separator", "comma-decimals"],
)
@pytest.mark.parametrize("cell", ["1,000.5", "12,5", "1.000,5"])
def test_decimal_cells_with_other_separators_take_the_widget_path(overrides, cell, settings):
    from django.utils import translation

    for name, value in overrides.items():
        setattr(settings, name, value)
    widget = DecimalWidget()
    with translation.override(settings.LANGUAGE_CODE):
        expected = outcome(widget, cell)
        with fast_widget_cleaning([widget]):
            assert "clean" not in vars(widget)
            assert outcome(widget, cell) == expected


@pytest.mark.parametrize("allow_blank", [True, False])
@pytest.mark.parametrize("cell", ["text", " padded ", "", None, 12, 2.5])
def test_text_fast_path_matches_the_widget(allow_blank, cell):
    widget = CharWidget(allow_blank=allow_blank)
    expected = outcome(widget, cell)
    with fast_widget_cleaning([widget]):
        assert outcome(widget, cell) == expected
    assert "clean" not in vars(widget)


def test_widget_subclasses_keep_their_own_clean():
    class Cents(DecimalWidget):
        def clean(self, value, row=None, **kwargs):
            return super().clean(value, row, **kwargs) / 100

    widget = Cents()
    with fast_widget_cleaning([widget]):
        assert "clean" not in vars(widget)
        assert widget.clean("250") == 2.5


@pytest.mark.parametrize(
    ("widget_class", "cells"),
    [(DateTimeWidget, CELLS), (DecimalWidget, DECIMAL_CELLS)],
    ids=["datetime", "decimal"],
)
def test_cells_cleaned_early_give_what_the_widget_gives_at_their_turn(widget_class, cells):
    # The importer cleans the next chunk's cells while the database writes the
    # previous one; each cell must still come out (or fail) as the widget says.
    widget = widget_class()
    expected = [outcome(widget, cell) for cell in cells]
    with fast_widget_cleaning([widget], [("cell", widget)]) as clean_early:
        clean_early([{"cell": cell} for cell in cells] + [{"other": "x"}])
        assert [outcome(widget, cell) for cell in cells] == expected


def test_a_cell_cleaned_early_is_answered_from_that_cleaning_until_the_next_chunk():
    widget = DateTimeWidget()
    with fast_widget_cleaning([widget], [("when", widget)]) as clean_early:
        clean_early([{"when": "2024-01-05 10:00:00"}])
        first = widget.clean("2024-01-05 10:00:00")
        assert widget.clean("2024-01-05 10:00:00") is first  # the early answer
        clean_early([{"when": "2024-01-06 10:00:00"}])  # the next chunk
        again = widget.clean("2024-01-05 10:00:00")
        assert again == first and again is not first  # forgotten: cleaned anew
    assert "clean" not in vars(widget)


def test_only_cells_of_the_named_columns_are_cleaned_early():
    widget = DecimalWidget()
    with fast_widget_cleaning([widget], [("amount", widget)]) as clean_early:
        clean_early([{"amount": "12.50", "price": "7.25"}])
        assert widget.clean("12.50") is widget.clean("12.50")
        assert widget.clean("7.25") is not widget.clean("7.25")


def test_a_widget_serving_two_columns_is_cleaned_early_for_both():
    widget = DateTimeWidget()
    cells = [("booked", widget), ("settled", widget)]
    with fast_widget_cleaning([widget], cells) as clean_early:
        clean_early([{"booked": "2024-01-05 10:00:00", "settled": "2024-01-06 10:00:00"}])
        for cell in ("2024-01-05 10:00:00", "2024-01-06 10:00:00"):
            assert widget.clean(cell) is widget.clean(cell)
