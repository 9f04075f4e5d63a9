from datetime import timedelta

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils import timezone

from clinic.access import permission_required
from clinic.forms import post_data
from treatments.forms import LotReceiveForm
from treatments.models import Lot, Procedure, Product


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


@permission_required("treatments.view_lot")
def stock(request):
    today = timezone.localdate()
    show = request.GET.get("show", "usable")
    lots = Lot.objects.select_related("product")
    if show == "usable":
        lots = lots.usable_on(today)
    elif show == "unusable":
        lots = lots.filter(Q(expiry_date__lt=today) | Q(quantity_remaining=0))
    return render(
        request,
        "treatments/stock.html",
        {"lots": lots, "show": show, "today": today, "soon": today + timedelta(days=60)},
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
