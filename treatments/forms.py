from decimal import Decimal

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.layout import Layout
from django import forms
from django.utils.translation import gettext_lazy as _

from clinic.forms import DateInput, ServiceForm
from treatments import services
from treatments.aftercare import RED_FLAG_QUESTIONS
from treatments.models import (
    Complication,
    ComplicationStep,
    InjectionLine,
    KitLot,
    KitMedicine,
    Lot,
    Marketing,
    PatientReport,
    Photo,
    PrescriberAssessment,
    Product,
    ProductDose,
    TreatmentRecord,
)
from treatments.rules import Agent
from treatments.sites import sites_for


class LotReceiveForm(ServiceForm):
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(is_active=True)
    )
    lot_number = forms.CharField(
        label=_("Lot (batch) number"), max_length=40, help_text=_("As printed on the box.")
    )
    expiry_date = forms.DateField(label=_("Expiry date"), widget=DateInput())
    quantity = forms.DecimalField(
        label=_("Quantity received"),
        max_digits=8,
        decimal_places=2,
        min_value=0.01,
        help_text=_(
            "In the product's unit: toxin in units (one 100 U vial of Botox = 100), "
            "filler in mL (five 1 mL syringes = 5)."
        ),
    )
    field_for_code = {
        "lot_already_expired": "expiry_date",
        "lot_expiry_mismatch": "expiry_date",
        "quantity_not_positive": "quantity",
        "lot_number_missing": "lot_number",
    }

    def save(self, *, user):
        return self.call_service(services.lot_receive, received_by=user, **self.cleaned_data)


class KitLotReceiveForm(ServiceForm):
    """A delivery of an emergency-kit medicine, in whole items."""

    medicine = forms.ModelChoiceField(
        label=_("Medicine"), queryset=KitMedicine.objects.filter(is_active=True)
    )
    lot_number = LotReceiveForm.base_fields["lot_number"]
    expiry_date = LotReceiveForm.base_fields["expiry_date"]
    quantity = forms.IntegerField(
        label=_("Items received"),
        min_value=1,
        max_value=999,
        help_text=_("Whole vials or ampoules: two vials of hyaluronidase = 2."),
    )
    field_for_code = LotReceiveForm.field_for_code

    def save(self, *, user):
        return self.call_service(services.kit_lot_receive, received_by=user, **self.cleaned_data)


class KitCheckForm(ServiceForm):
    """The kit check: for each medicine in the kit, how many are present and
    in date, counted by hand (the stock held is shown beside each)."""

    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed when something is short: say what you have done about it."),
    )

    def __init__(self, *args, medicines, **kwargs):
        super().__init__(*args, **kwargs)
        self.medicines = list(medicines)
        counts = {}
        for medicine in self.medicines:
            counts[self.name_for(medicine)] = forms.IntegerField(
                label=f"{medicine.name}: present and in date",
                min_value=0,
                max_value=999,
                help_text=f"Count each {medicine.pack}. {medicine.needed} needed.",
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )
        self.fields = {**counts, "note": self.fields["note"]}

    @staticmethod
    def name_for(medicine):
        return f"count_{medicine.pk}"

    def save(self, *, user):
        counts = {m.pk: self.cleaned_data[self.name_for(m)] for m in self.medicines}
        return self.call_service(
            services.kit_check_record, by=user, counts=counts, note=self.cleaned_data["note"]
        )


class ConsentSignForm(ServiceForm):
    form_version = forms.IntegerField(widget=forms.HiddenInput)
    agreed = forms.BooleanField(
        label=_(
            "I agree to sign this form electronically. My electronic signature means the same "
            "as signing it by hand."
        ),
        error_messages={"required": _("Tick the box to agree to sign electronically.")},
    )
    date_of_birth = forms.DateField(
        label=_("Your date of birth"),
        widget=DateInput(attrs={"autocomplete": "bday"}),
        help_text=_("So we know the link reached the right person."),
    )
    typed_name = forms.CharField(
        label=_("Your full name"),
        max_length=160,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        help_text=_("First and last name, as you gave them to the clinic."),
    )
    signature = forms.CharField(
        widget=forms.HiddenInput,
        required=False,
    )
    field_for_code = {
        "not_agreed": "agreed",
        "name_mismatch": "typed_name",
        "signature_missing": "signature",
        "signature_invalid": "signature",
        "signature_too_large": "signature",
        "signature_blank": "signature",
        "signature_filled": "signature",
    }

    def __init__(self, *args, ask_birth_date, **kwargs):
        super().__init__(*args, **kwargs)
        if not ask_birth_date:
            del self.fields["date_of_birth"]


class ConsentFormEditForm(ServiceForm):
    title = forms.CharField(label=_("Title"), max_length=120)
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 24}),
        help_text=_(
            "Blank lines separate sections; a section's first line is its heading; a line "
            "starting with '- ' is a bullet point."
        ),
    )
    statement = forms.CharField(
        label=_("Consent statement"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the patient declares by signing."),
    )


class LotChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, lot):
        return (
            f"{lot.product} · lot {lot.lot_number} · exp. {lot.expiry_date:%d/%m/%Y} · "
            f"{lot.quantity_remaining:g} {lot.product.unit} left"
        )


class InjectionForm(ServiceForm):
    lot = LotChoiceField(label=_("Product and lot"), queryset=Lot.objects.none())
    site = forms.ChoiceField(label=_("Site"))
    amount = forms.DecimalField(
        label=_("Amount (U or mL)"), max_digits=6, decimal_places=2, min_value=Decimal("0.01")
    )
    dilution = forms.CharField(label=_("Dilution (toxin)"), max_length=80, required=False)
    depth = forms.ChoiceField(label=_("Depth"), choices=InjectionLine.Depth.choices)
    technique = forms.ChoiceField(
        label=_("Technique"),
        choices=[("", "—"), *InjectionLine.Technique.choices],
        required=False,
    )
    needle = forms.ChoiceField(label=_("Needle or cannula"), choices=InjectionLine.Needle.choices)
    field_for_code = {
        "wrong_product": "lot",
        "lot_expired": "lot",
        "lot_empty": "lot",
        "not_enough_stock": "lot",
        "cows_milk_allergy": "lot",
        "wrong_site": "site",
        "amount_not_positive": "amount",
        "dilution_required": "dilution",
    }

    def __init__(self, *args, record, on, **kwargs):
        super().__init__(*args, **kwargs)
        products = ProductDose.objects.filter(procedure__in=record.procedure.parts()).values(
            "product"
        )
        self.fields["lot"].queryset = (
            Lot.objects.usable_on(on)
            .filter(product__in=products, product__is_active=True, product__for_lips=True)
            .select_related("product")
            .order_by("product__agent", "product__name", "expiry_date")
        )
        self.fields["site"].choices = [("", "Pick on the chart or here")] + [
            (site.code, site.label) for site in sites_for(record.procedure.agents)
        ]
        toxin = Product.objects.filter(pk__in=products, agent=Agent.TOXIN).first()
        if toxin and not self.is_bound:
            self.initial.setdefault("dilution", toxin.default_dilution)
        for name in ("lot", "site", "depth", "technique", "needle"):
            self.fields[name].widget.attrs["class"] = "form-select"


class RecordForm(ServiceForm):
    anaesthetic = forms.ChoiceField(
        label=_("Anaesthetic"),
        choices=[("", "—"), *TreatmentRecord.Anaesthetic.choices],
        required=False,
    )
    no_adverse_events = forms.BooleanField(label=_("No adverse events"), required=False)
    adverse_events = forms.CharField(
        label=_("Adverse events"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "What happened and what you did. Leave blank if you ticked 'No adverse events'."
        ),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    over_maximum_reason = forms.CharField(
        label=_("Reason for going above the maximum dose"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    postcare_given = forms.CharField(
        label=_("Aftercare instructions given"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    review_date = forms.DateField(label=_("Review on"), required=False, widget=DateInput())
    rebook_date = forms.DateField(label=_("Rebook from"), required=False, widget=DateInput())
    supervising_prescriber = forms.CharField(
        label=_("Supervising prescriber"), max_length=120, required=False
    )


class SignForm(ServiceForm):
    password = forms.CharField(
        label=_("Your password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Signing is like a handwritten signature: enter your login password."),
    )
    field_for_code = {"wrong_password": "password"}


class AddendumForm(SignForm):
    reason = forms.CharField(label=_("Why is this correction needed?"), max_length=200)
    text = forms.CharField(label=_("Correction"), widget=forms.Textarea(attrs={"rows": 3}))
    field_for_code = {"wrong_password": "password", "addendum_empty": "text"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["reason", "text", "password"])


class ComplicationOpenForm(ServiceForm):
    kind = forms.ChoiceField(
        label=_("What kind of complication?"),
        choices=[("", "Choose…"), *Complication.Kind.choices],
        error_messages={
            "required": _("Pick what kind of complication it is (Other if none fits).")
        },
    )


class ComplicationStepForm(ServiceForm):
    """One step at the chair. Each card on the page posts `kind` and only its
    own fields; the service checks what each kind needs."""

    kind = forms.ChoiceField(choices=ComplicationStep.Kind.choices, widget=forms.HiddenInput)
    signs = forms.MultipleChoiceField(
        required=False, choices=list(services.SIGNS.items()), widget=forms.CheckboxSelectMultiple
    )
    kit_lot = forms.ModelChoiceField(
        label=_("From kit lot"),
        required=False,
        queryset=KitLot.objects.filter(quantity_remaining__gt=0).select_related("medicine"),
    )
    items = forms.IntegerField(label=_("Items used"), required=False, min_value=1, max_value=99)
    dose = forms.CharField(label=_("Dose"), required=False, max_length=60)
    escalated_to = forms.ChoiceField(
        required=False, choices=[("", ""), *ComplicationStep.Escalation.choices]
    )
    outcome = forms.ChoiceField(required=False, choices=[("", ""), *Complication.Outcome.choices])
    text = forms.CharField(
        label=_("Note"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    password = forms.CharField(
        label=_("Your password"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def save(self, *, complication, user):
        data = {**self.cleaned_data, "signs": self.cleaned_data["signs"] or ()}
        return self.call_service(
            services.complication_step, complication=complication, by=user, **data
        )


class ComplicationSignForm(SignForm):
    summary = forms.CharField(
        label=_("What happened, in brief"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For the patient's file and the adverse-incident report."),
    )
    patient_sex = forms.ChoiceField(
        label=_("The patient's sex"),
        choices=[("", "Choose…"), *Complication.Sex.choices],
        help_text=_("The regulator's adverse-incident report asks for it."),
        error_messages={"required": _("Choose the patient's sex (or Not stated).")},
    )
    field_for_code = {"complication_sign_password": "password"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["summary", "patient_sex", "password"])


class RegulatorReportForm(ServiceForm):
    reported_on = forms.DateField(label=_("Reported on"), widget=DateInput())
    reference = forms.CharField(
        label=_("Yellow Card reference"),
        max_length=60,
        help_text=_("As the Yellow Card site gave it on submitting."),
    )


def _yes_no(label, *, yes="Yes", no="No"):
    return forms.TypedChoiceField(
        label=label,
        choices=[("yes", yes), ("no", no)],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Ask the patient, then choose yes or no.")},
    )


class SameDayCheckForm(ServiceForm):
    """Today's safety questions, asked by the treating practitioner. The
    window question names the real first day of the minimum window."""

    window_kept = _yes_no("", yes=_("Yes: none since then"), no=_("No: they have had some"))
    pregnant_or_breastfeeding = _yes_no(_("Pregnant, possibly pregnant, or breastfeeding now?"))
    active_cold_sore = _yes_no(_("A cold sore on or near the lips now (or starting to tingle)?"))
    infection_at_site = _yes_no(
        _("Any spots, rash, infection or inflammation on or around the lips now?")
    )
    antibiotics_now = _yes_no(_("Taking antibiotics now?"))
    dental_work_recent = _yes_no(_("Any dental treatment in the last 2 weeks?"))
    illness_or_vaccination_recent = _yes_no(
        _("An illness (cold, flu, fever) or a vaccination in the last 2 weeks?")
    )
    toxin_elsewhere_on = forms.DateField(
        label=_("Botox, Dysport or another toxin anywhere else since their last visit here: when?"),
        required=False,
        widget=DateInput(),
        help_text=_("Leave blank if none."),
    )

    def __init__(self, *args, window_from, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        # One line per question: a tap each, nothing to scroll past on a tablet.
        self.helper.layout = Layout(
            *(InlineRadios(name) for name in self.fields if name != "toxin_elsewhere_on"),
            "toxin_elsewhere_on",
        )
        self.fields["window_kept"].label = _(
            "Has the patient had no alcohol and no blood thinners (aspirin, ibuprofen, "
            "naproxen, fish oil, vitamin E, ginkgo, garlic tablets, St John's wort) since "
            "%(day)s?"
        ) % {"day": f"{window_from:%A} {window_from.day} {window_from:%B}"}

    def clean_toxin_elsewhere_on(self):
        day = self.cleaned_data.get("toxin_elsewhere_on")
        if day and day > self.today:
            raise forms.ValidationError(_("That date is in the future: give the day it was done."))
        if day and (self.today - day).days > 366:
            raise forms.ValidationError(
                _("Only toxin in the last year matters here: leave it blank if it was earlier.")
            )
        return day


class PrescriptionForm(SignForm):
    """The prescriber's assessment and prescription, signed with their
    password. One "most per session" field per prescription-only product:
    the ones filled in are prescribed."""

    mode = forms.ChoiceField(
        label=_("How did you see the patient?"),
        choices=PrescriberAssessment.Mode.choices,
        widget=forms.RadioSelect,
        help_text=_("Toxin is prescribed only after a face-to-face assessment."),
    )
    findings = forms.CharField(
        label=_("Your assessment"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What you examined and discussed: the area, suitability, the plan."),
    )
    directions = forms.CharField(
        label=_("Directions"),
        max_length=200,
        required=False,
        help_text=_("E.g. 'Lip flip: 4-6 points along the upper vermilion border'."),
    )
    valid_until = forms.DateField(label=_("Valid until"), widget=DateInput())
    field_for_code = {
        "prescription_wrong_password": "password",
        "assessment_not_in_person": "mode",
        "assessment_empty": "findings",
        "prescription_validity": "valid_until",
    }

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.products = list(products)
        for product in self.products:
            self.fields[f"most_{product.pk}"] = forms.DecimalField(
                label=_("%(product)s: most per session (%(unit)s)")
                % {"product": product, "unit": product.get_unit_display()},
                required=False,
                max_digits=6,
                decimal_places=2,
                min_value=Decimal("0.01"),
                help_text=_("Leave blank if not prescribed."),
            )
        self.order_fields(
            [
                "mode",
                "findings",
                *[f"most_{p.pk}" for p in self.products],
                "directions",
                "valid_until",
                "password",
            ]
        )

    def service_fields(self):
        data = self.cleaned_data
        items = [
            (product, data[f"most_{product.pk}"])
            for product in self.products
            if data.get(f"most_{product.pk}") is not None
        ]
        return {
            "mode": data["mode"],
            "findings": data["findings"],
            "directions": data["directions"],
            "valid_until": data["valid_until"],
            "password": data["password"],
            "items": items,
        }


class WithdrawalForm(ServiceForm):
    reason = forms.CharField(
        label=_("Why is it withdrawn?"),
        max_length=200,
        help_text=_("E.g. 'Now pregnant', 'New medicine that interacts', 'Written in error'."),
    )


YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class PatientReportForm(ServiceForm):
    """A patient's problem report: the red-flag questions (yes or no; once
    one is yes the rest may be left), what is wrong and their own words.
    Whether the answers are an emergency is the safety engine's to say."""

    concern = forms.ChoiceField(
        label=_("Pick what fits best"),
        choices=[("", _("Choose one")), *PatientReport.Concern.choices],
        required=False,
    )
    description = forms.CharField(
        label=_("Tell us in your own words"),
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": services.DESCRIPTION_LIMIT}),
        required=False,
        help_text=_("Where, since when, and whether it is getting better or worse."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for question in RED_FLAG_QUESTIONS:
            self.fields[question.code] = forms.ChoiceField(
                label=question.question,
                help_text=question.hint,
                choices=YES_NO,
                widget=forms.RadioSelect,
                required=False,
            )
        self.order_fields([q.code for q in RED_FLAG_QUESTIONS] + ["concern", "description"])

    def questions(self):
        return [self[q.code] for q in RED_FLAG_QUESTIONS]

    def answers(self):
        """{code: True, False or None (not answered)} from the cleaned data."""
        words = {"yes": True, "no": False}
        return {q.code: words.get(self.cleaned_data.get(q.code)) for q in RED_FLAG_QUESTIONS}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class PhotoUploadForm(ServiceForm):
    """At the chair: the tablet's camera (`camera`, which opens it) or files
    from the device (`files`). The service checks every file."""

    phase = forms.ChoiceField(label=_("When"), choices=Photo.Phase, widget=forms.RadioSelect)
    view = forms.ChoiceField(label=_("View"), choices=Photo.View, widget=forms.RadioSelect)
    camera = MultipleFileField(
        label=_("Take a photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    files = MultipleFileField(
        label=_("Choose files"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png", "multiple": True}),
    )


class PhotoConsentSignForm(ConsentSignForm):
    """The photo-consent choice, signed like a treatment consent (no date of
    birth: the patient is logged in, or in front of the practitioner)."""

    training = forms.BooleanField(
        label=_("Teaching and training: photos shown to clinicians learning, without my name"),
        required=False,
    )
    marketing = forms.ChoiceField(
        label=_("Marketing"),
        choices=Marketing.choices,
        initial=Marketing.NO,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    field_for_code = {**ConsentSignForm.field_for_code, "photo_consent_choice": "marketing"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, ask_birth_date=False, **kwargs)
