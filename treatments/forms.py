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
