from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from clinic import services
from clinic.medical import YES_NO_QUESTIONS, Anticoagulant, OverTheCounterThinner
from clinic.refusals import field_for


class DateInput(forms.DateInput):
    """An HTML date picker. Browsers want ISO dates in its value, whatever the
    language, so the format is fixed (the default, DD/MM/YYYY for en-gb, would
    show an empty box and save an empty date)."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def post_data(request):
    """The POST data to bind a form to, or None on GET. (`request.POST or None`
    would leave a form unbound, and silently unsaved, when a POST is empty.)"""
    return request.POST if request.method == "POST" else None


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        "invalid_login": _(
            "That email and password do not match an account. Check both and try "
            "again, or use “Forgot your password?” below."
        ),
        "inactive": _("This account has been switched off. Ask the clinic manager to restore it."),
    }

    def clean_username(self):
        # Accounts are stored lower-case: "Fran@Clinic.test" is the same login,
        # and django-axes counts it as the same email.
        return self.cleaned_data["username"].strip().lower()


class ServiceForm(forms.Form):
    """A form whose `save()` calls a service.

    Services raise ValidationError with a stable `code`; `field_for_code` maps
    codes to the field the user must fix, so the message appears under it
    (the rest appear above the form). Nothing is saved when a service refuses:
    services run in one transaction.
    """

    field_for_code: dict[str, str] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def apply_service_error(self, exc: ValidationError):
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
            return
        for error in exc.error_list:
            field = self.field_for_code.get(error.code) or field_for(error.code)
            self.add_error(field if field in self.fields else None, error)

    def call_service(self, service, **kwargs):
        """Run `service`; on refusal, attach its errors and return None."""
        try:
            return service(**kwargs)
        except ValidationError as exc:
            self.apply_service_error(exc)
            return None


class PatientForm(ServiceForm):
    first_name = forms.CharField(label=_("First name"), max_length=80)
    last_name = forms.CharField(label=_("Last name"), max_length=80)
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        widget=DateInput(),
        help_text=_("Used to tell patients with the same name apart, and for age limits."),
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    email = forms.EmailField(
        label=_("Email"),
        required=False,
        help_text=_("For confirmations, consent links and reminders. Leave blank if none."),
    )
    field_for_code = {
        "born_in_future": "date_of_birth",
        "too_old": "date_of_birth",
        "phone_invalid": "phone",
    }

    def save(self, *, user, patient=None):
        if patient is None:
            return self.call_service(services.patient_create, created_by=user, **self.cleaned_data)
        return self.call_service(services.patient_update, patient=patient, **self.cleaned_data)


YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class MedicalHistoryForm(ServiceForm):
    """The questionnaire. Every yes/no question must be answered: a blank
    never silently counts as "no"."""

    toxin_elsewhere_date = forms.DateField(
        label=_("When was that injection?"),
        required=False,
        widget=DateInput(),
        help_text=_("Only if you answered yes. Roughly, if you are not sure of the day."),
    )
    allergy_details = forms.CharField(
        label=_("Allergies: anything else, and what happened"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    dental_work_date = forms.DateField(
        label=_("Date of any dental treatment in the last or next 4 weeks"),
        required=False,
        widget=DateInput(),
        help_text=_("Leave blank if none. Filler is best kept 2 weeks away from dental work."),
    )
    prescribed_anticoagulants = forms.MultipleChoiceField(
        label=_("Blood thinners prescribed by a doctor"),
        choices=Anticoagulant.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Keep taking these: never stop a prescribed medicine for a cosmetic treatment."
        ),
    )
    prescribed_anticoagulant_other = forms.CharField(
        label=_("Name of the other prescribed blood thinner"), required=False, max_length=120
    )
    otc_blood_thinners = forms.MultipleChoiceField(
        label=_("Taken without a prescription in the last two weeks"),
        choices=OverTheCounterThinner.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Paracetamol is fine and need not be listed."),
    )
    other_medicines = forms.CharField(
        label=_("Other medicines and supplements"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    notes = forms.CharField(
        label=_("Anything else the practitioner should know"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    field_for_code = {
        "toxin_elsewhere_date_required": "toxin_elsewhere_date",
        "toxin_elsewhere_date_future": "toxin_elsewhere_date",
        "toxin_elsewhere_date_too_old": "toxin_elsewhere_date",
    }

    def __init__(self, *args, initial_history=None, **kwargs):
        super().__init__(*args, **kwargs)
        questions = {}
        for name, question in YES_NO_QUESTIONS:
            questions[name] = forms.TypedChoiceField(
                label=question,
                choices=YES_NO,
                coerce=lambda value: value == "yes",
                widget=forms.RadioSelect(attrs={"class": "yes-no"}),
                error_messages={"required": _("Answer yes or no.")},
            )
        self.fields = {**questions, **self.fields}
        self.helper.layout = Layout(
            Fieldset(
                _("Your health"),
                *[InlineRadios(name) for name in questions],
                "toxin_elsewhere_date",
            ),
            Fieldset(_("Allergies, dental work and medicines"), *services.HISTORY_DETAIL_FIELDS),
        )
        if initial_history is not None and not self.is_bound:
            for name in self.fields:
                value = getattr(initial_history, name)
                if name in questions:
                    # A question added after that history was given stays blank.
                    value = None if value is None else ("yes" if value else "no")
                self.initial[name] = value

    def clean(self):
        data = super().clean()
        if Anticoagulant.OTHER in data.get("prescribed_anticoagulants", []) and not data.get(
            "prescribed_anticoagulant_other"
        ):
            self.add_error(
                "prescribed_anticoagulant_other",
                _("You ticked another prescribed blood thinner: write its name here."),
            )
        return data

    def save(self, *, patient, user, source):
        return self.call_service(
            services.medical_history_submit,
            patient=patient,
            submitted_by=user,
            source=source,
            **self.cleaned_data,
        )


class ReasonForm(ServiceForm):
    """A reason that is kept with a record: cancelling, voiding, withdrawing."""

    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give a reason: it is kept with the record.")},
    )

    def __init__(self, *args, label=None, **kwargs):
        super().__init__(*args, **kwargs)
        if label:
            self.fields["reason"].label = label


class TextsForm(ServiceForm):
    """A patient's agreement to texts: the number to text."""

    number = forms.CharField(
        label=_("Mobile number for texts"),
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
