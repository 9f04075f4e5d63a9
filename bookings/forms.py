from datetime import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bookings import waitlist
from bookings.models import WaitlistEntry
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


class WaitlistForm(ServiceForm):
    """Joining the waitlist (a patient, or the front desk for one), or
    changing an entry (the front desk: `status` too)."""

    procedure = forms.ModelChoiceField(
        label=_("Procedure"),
        queryset=Procedure.objects.active(),
        empty_label=None,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    practitioner = forms.ModelChoiceField(
        label=_("Practitioner"),
        queryset=Practitioner.objects.active().select_related("user"),
        required=False,
        empty_label=_("Anyone"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    earliest = DayField(label=_("From"), required=True, widget=DateInput())
    latest = DayField(
        label=_("Until"),
        required=True,
        widget=DateInput(),
        help_text=_("We email you if a time opens on one of these days, from the first on."),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    status = forms.ChoiceField(label=_("Status"), choices=WaitlistEntry.Status, required=False)
    field_for_code = {"waitlist_duplicate": "procedure"}

    def __init__(self, *args, online=False, staff=False, **kwargs):
        super().__init__(*args, **kwargs)
        if online:
            # A patient waits only for what the clinic books online.
            self.fields["procedure"].queryset = Procedure.objects.active().filter(
                online_booking=True
            )
            self.fields["practitioner"].queryset = (
                Practitioner.objects.active().filter(online_booking=True).select_related("user")
            )
        if not staff:
            del self.fields["notes"]
            del self.fields["status"]

    def join(self, *, patient, by):
        """Put `patient` on the waitlist as the form says (None: refused,
        the reasons under their fields)."""
        data = self.cleaned_data
        return self.call_service(
            waitlist.waitlist_join,
            patient=patient,
            procedure=data["procedure"],
            practitioner=data["practitioner"],
            earliest=data["earliest"],
            latest=data["latest"],
            notes=data.get("notes", ""),
            by=by,
        )
