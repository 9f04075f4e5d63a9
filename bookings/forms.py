from datetime import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.forms import DateInput, ServiceForm
from clinic.models import Practitioner
from clinic.params import DayField, MomentField
from treatments.models.catalog import Procedure


class SlotSearchForm(forms.Form):
    """What the front desk is looking for: a procedure, maybe a practitioner,
    maybe a first day. Read from the query string."""

    procedure = forms.ModelChoiceField(
        label=_("Procedure"),
        queryset=Procedure.objects.active().with_parts(),
        empty_label=None,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    practitioner = forms.ModelChoiceField(
        label=_("Practitioner"),
        queryset=Practitioner.objects.active(),
        required=False,
        empty_label=_("Anyone"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    on_or_after = DayField(
        label=_("From"),
        widget=DateInput(attrs={"class": "form-control"}),
    )


class ChosenTimeForm(forms.Form):
    """A time typed in rather than picked from the free slots."""

    practitioner = forms.ModelChoiceField(
        label=_("Practitioner"), queryset=Practitioner.objects.active()
    )
    date = DayField(label=_("Date"), required=True, widget=DateInput())
    time = forms.TimeField(label=_("Time"), widget=forms.TimeInput(attrs={"type": "time"}))

    def starts_at(self):
        data = self.cleaned_data
        return timezone.make_aware(datetime.combine(data["date"], data["time"]))


class ProposalForm(forms.Form):
    """A proposed booking carried in the query string of the confirm page."""

    # No prefetch: a single procedure needs no second query (Procedure.parts).
    procedure = forms.ModelChoiceField(queryset=Procedure.objects.active())
    practitioner = forms.ModelChoiceField(queryset=Practitioner.objects.select_related("user"))
    start = MomentField(
        error_messages={"invalid": _("That time could not be read. Pick a slot again.")}
    )


class ConfirmForm(ServiceForm):
    attestation = forms.CharField(
        label=_("What the patient told you"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Only when booking inside the pre-care window: write down, in the patient's "
            "words, that they have had no alcohol and no blood thinners since the date above."
        ),
    )
    notes = forms.CharField(
        label=_("Notes for the practitioner"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    field_for_code = {"precare_too_late": "attestation"}


class CheckInForm(ServiceForm):
    """Check-in is the front desk's arrival marker: nothing to ask. The
    pre-care window is confirmed by the practitioner (same-day check)."""
