"""The catalog and stock pages: procedures, products, lots and deliveries."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils import timezone

from clinic.access import permission_required
from clinic.forms import post_data
from clinic.params import choice_param
from treatments.forms import (
    LotReceiveForm,
)
from treatments.models import (
    Lot,
    Procedure,
    Product,
)


@permission_required("treatments.view_procedure")
def catalog(request):
    return render(
        request,
        "treatments/catalog.html",
        {
            "procedures": Procedure.objects.with_parts().prefetch_related("doses__product"),
            "products": Product.objects.prefetch_related("doses__procedure"),
        },
    )


def stock_filters(today):
    """The stock page's lists of lots, by `?show=`; the dashboard counts the same."""
    soon = today + timedelta(days=settings.STOCK_EXPIRY_WARNING_DAYS)
    return {
        "usable": Q(expiry_date__gte=today, quantity_remaining__gt=0),
        "expiring": Q(expiry_date__gte=today, expiry_date__lte=soon, quantity_remaining__gt=0),
        "expired": Q(expiry_date__lt=today, quantity_remaining__gt=0),
        "unusable": Q(expiry_date__lt=today) | Q(quantity_remaining=0),
        "all": Q(),
    }


@permission_required("treatments.view_lot")
def stock(request):
    today = timezone.localdate()
    show = choice_param(request, "show", [*stock_filters(today), "low"], "usable")
    low = None
    if show == "low":
        lots = Lot.objects.none()
        low = Product.objects.low_on(today)
    else:
        filters = stock_filters(today)
        lots = Lot.objects.select_related("product").filter(filters[show])
    return render(
        request,
        "treatments/stock.html",
        {
            "lots": lots,
            "low": low,
            "show": show,
            "today": today,
            "soon": today + timedelta(days=settings.STOCK_EXPIRY_WARNING_DAYS),
            "warning_days": settings.STOCK_EXPIRY_WARNING_DAYS,
        },
    )


@permission_required("treatments.add_lot")
def lot_receive(request):
    form = LotReceiveForm(post_data(request))
    if request.method == "POST" and form.is_valid():
        lot = form.save(user=request.user)
        if lot:
            messages.success(
                request,
                f"Recorded: {lot.product} lot {lot.lot_number}, "
                f"{lot.quantity_remaining} {lot.product.unit} in stock.",
            )
            return redirect("treatments:stock")
    return render(request, "treatments/lot_receive.html", {"form": form})
