"""A cell a stock widget refuses is told in Django's form words, with the formats for dates."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from import_export import widgets

from admin_bulk_upsert.reports.cell_messages import cell_message, formats_accepted
from tests.testapp.models import Account


def refusal(widget, value):
    with pytest.raises(Exception) as raised:
        widget.clean(value)
    return cell_message(widget, value, raised.value)


@pytest.mark.parametrize(
    ("widget", "value", "expected"),
    [
        (widgets.DecimalWidget(), "12,5,0", "Enter a number."),
        (widgets.FloatWidget(), "twelve", "Enter a number."),
        (widgets.IntegerWidget(), "1.2.3", "Enter a whole number."),
        (widgets.DurationWidget(), 12.5, "Enter a valid duration."),
        (widgets.JSONWidget(), "{not json", "Enter a valid JSON."),
    ],
    ids=["decimal", "float", "integer", "duration", "json"],
)
def test_a_number_or_value_the_widget_cannot_read(widget, value, expected):
    assert refusal(widget, value) == expected


def test_a_date_lists_the_formats_accepted():
    widget = widgets.DateWidget(format="%d/%m/%Y")

    assert refusal(widget, "2024-13-45") == "Enter a valid date. Formats accepted: 31/01/2024."


def test_a_datetime_lists_each_of_its_formats():
    widget = widgets.DateTimeWidget()
    widget.formats = ("%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M")

    assert refusal(widget, "yesterday") == (
        "Enter a valid date/time. Formats accepted: 2024-01-31 14:30:00, 31/01/2024 14:30."
    )


def test_a_time_lists_its_format():
    assert refusal(widgets.TimeWidget(format="%H:%M"), "noon") == (
        "Enter a valid time. Formats accepted: 14:30."
    )


def test_the_default_date_formats_are_django_s_input_formats(settings):
    settings.DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]

    assert formats_accepted(widgets.DateWidget()) == "2024-01-31, 31.01.2024"


@pytest.mark.django_db
def test_a_foreign_key_not_found_names_the_model_the_field_and_the_value():
    widget = widgets.ForeignKeyWidget(Account, "number")

    assert refusal(widget, "SUP-999") == "No account has number “SUP-999”."


@pytest.mark.django_db
def test_a_foreign_key_found_twice_says_so():
    Account.objects.create(number="A1", name="Twin")
    Account.objects.create(number="A2", name="Twin")
    widget = widgets.ForeignKeyWidget(Account, "name")

    assert refusal(widget, "Twin") == "Several accounts have name “Twin”."


def test_a_widget_s_own_validation_error_keeps_its_words():
    class PositiveWidget(widgets.IntegerWidget):
        def clean(self, value, row=None, **kwargs):
            number = super().clean(value, row, **kwargs)
            if number is not None and number < 0:
                raise ValidationError("Must not be negative.")
            return number

    assert refusal(PositiveWidget(), "-3") == "Must not be negative."


def test_a_widget_s_own_value_error_keeps_its_words():
    class EvenWidget(widgets.DecimalWidget):
        def clean(self, value, row=None, **kwargs):
            number = super().clean(value, row, **kwargs)
            if number % 2:
                raise ValueError("Only even amounts.")
            return number

    assert refusal(EvenWidget(), "3") == "Only even amounts."
    assert EvenWidget().clean("4") == Decimal(4)
