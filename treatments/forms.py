from django import forms
from django.utils.translation import gettext_lazy as _

from clinic.forms import ServiceForm
from treatments import services
from treatments.models import Product


class LotReceiveForm(ServiceForm):
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(is_active=True)
    )
    lot_number = forms.CharField(
        label=_("Lot (batch) number"), max_length=40, help_text=_("As printed on the box.")
    )
    expiry_date = forms.DateField(
        label=_("Expiry date"), widget=forms.DateInput(attrs={"type": "date"})
    )
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
        "lot_expired": "expiry_date",
        "lot_expiry_mismatch": "expiry_date",
        "quantity_not_positive": "quantity",
    }

    def save(self, *, user):
        return self.call_service(services.lot_receive, received_by=user, **self.cleaned_data)


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
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}),
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
        "birth_date_mismatch": "date_of_birth",
        "signature_missing": "signature",
        "signature_invalid": "signature",
        "signature_too_large": "signature",
        "signature_blank": "signature",
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
