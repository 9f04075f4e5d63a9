"""Query-string parameters, read through forms.

A value a page cannot use (30 February, the year 9999, page 10^20, a NUL
byte, a lot number longer than any lot) answers 400 with a message, instead of
reaching the database or date arithmetic and crashing. Dates are kept to a
range wide enough for any real clinic day and far from the calendar's ends,
so a day or a week either side of one is still a date.
"""

from datetime import date

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, BadRequest
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
MAX_PAGE = 10_000
SEARCH_MAX_LENGTH = 100

DATE_OUT_OF_RANGE = "Choose a date between 2000 and 2099."


class BadParameter(BadRequest):
    """A query parameter that cannot be read; its message is shown on the 400 page."""


class DayField(forms.DateField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.validators += [
            MinValueValidator(FIRST_DAY, DATE_OUT_OF_RANGE),
            MaxValueValidator(LAST_DAY, DATE_OUT_OF_RANGE),
        ]


class MomentField(forms.DateTimeField):
    """An aware date and time inside FIRST_DAY..LAST_DAY."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        if not FIRST_DAY <= timezone.localdate(moment) <= LAST_DAY:
            raise forms.ValidationError(DATE_OUT_OF_RANGE, code="out_of_range")
        return moment


class SearchField(forms.CharField):
    """Free text typed into a search box (Django's CharField refuses NUL)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", SEARCH_MAX_LENGTH)
        super().__init__(**kwargs)


class PageField(forms.IntegerField):
    def __init__(self, **kwargs):
        super().__init__(required=False, min_value=1, max_value=MAX_PAGE, **kwargs)


RANGE_BACKWARDS = "The first day must be on or before the last."


class DayRangeQuery(forms.Form):
    """?from=&to=, local days, the first not after the last."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # "from" is a Python keyword: the fields are added by name.
        self.fields["from"] = DayField()
        self.fields["to"] = DayField()

    def clean(self):
        data = super().clean()
        if data.get("from") and data.get("to") and data["to"] < data["from"]:
            raise forms.ValidationError(RANGE_BACKWARDS)
        return data


def read_query(request, form_class) -> dict:
    """The cleaned query parameters of `form_class`, or BadParameter (400)."""
    form = form_class(request.GET)
    if not form.is_valid():
        problems = "; ".join(
            " ".join(errors) if name == NON_FIELD_ERRORS else f"{name}: {' '.join(errors)}"
            for name, errors in form.errors.items()
        )
        raise BadParameter(f"This address has a value the page cannot use ({problems}).")
    return form.cleaned_data


def day_param(request, name="date") -> date:
    """The day a calendar shows: `?date=` or today."""
    form = type("Query", (forms.Form,), {name: DayField()})
    return read_query(request, form)[name] or timezone.localdate()


def choice_param(request, name, choices, default) -> str:
    """`?name=` as one of `choices` (default when absent or empty); any other
    value is a 400 that names it, rather than quietly showing something else."""
    field = forms.ChoiceField(choices=[(c, c) for c in choices], required=False)
    value = read_query(request, type("Query", (forms.Form,), {name: field}))[name]
    return value or default
