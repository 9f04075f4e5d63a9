"""The emergency kit page: is the kit ready for filler, what it holds, the
check form and the checks so far; and deliveries of kit medicines."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone

from clinic.access import permission_required
from clinic.forms import post_data
from treatments.forms import KitCheckForm, KitLotReceiveForm
from treatments.models import KitCheck, KitLot, KitMedicine, KitSettings
from treatments.safety.engine import kit_findings
from treatments.services import in_date_stock, kit_state

RECENT_CHECKS = 10


def kit_status(now):
    """(state, findings): the kit as the engine reads it, and what would stop
    a filler treatment starting now (none: ready)."""
    state = kit_state(now)
    return state, kit_findings(state, timezone.localdate(now))


@permission_required("treatments.view_kitcheck")
def kit(request):
    now = timezone.now()
    today = timezone.localdate(now)
    medicines = list(KitMedicine.objects.filter(is_active=True))
    can_check = request.user.has_perm("treatments.add_kitcheck")
    form = KitCheckForm(post_data(request) if can_check else None, medicines=medicines)
    if request.method == "POST" and can_check and form.is_valid():
        check = form.save(user=request.user)
        if check:
            if check.complete:
                messages.success(request, "Kit check recorded: everything present and in date.")
            else:
                messages.warning(
                    request,
                    "Kit check recorded with items short. Filler cannot start until the kit is "
                    "restocked and checked again.",
                )
            return redirect("treatments:kit")
    state, findings = kit_status(now)
    stock = in_date_stock(today)
    lots = list(
        KitLot.objects.filter(medicine__is_active=True, quantity_remaining__gt=0)
        .select_related("medicine")
        .order_by("medicine__name", "expiry_date")
    )
    soonest = {}
    for lot in lots:  # by expiry within each medicine: the first seen expires first
        soonest.setdefault(lot.medicine_id, lot)
    checks = list(
        KitCheck.objects.select_related("checked_by").prefetch_related("items__medicine")[
            :RECENT_CHECKS
        ]
    )
    counted = {item.medicine_id: item.in_date for item in checks[0].items.all()} if checks else {}
    rows = [
        {
            "medicine": m,
            "in_stock": stock.get(m.pk, 0),
            "counted": counted.get(m.pk),
            "soonest": soonest.get(m.pk),
        }
        for m in medicines
    ]
    return render(
        request,
        "treatments/kit.html",
        {
            "state": state,
            "findings": findings,
            "rows": rows,
            "form": form if can_check else None,
            "checks": checks,
            "stock_behind": any(
                row["counted"] is not None and row["counted"] > row["in_stock"] for row in rows
            ),
            "every_days": KitSettings.current().check_every_days,
            "today": today,
            "lots": lots,
        },
    )


@permission_required("treatments.add_kitlot")
def kit_receive(request):
    form = KitLotReceiveForm(post_data(request))
    if request.method == "POST" and form.is_valid():
        lot = form.save(user=request.user)
        if lot:
            messages.success(
                request,
                f"Recorded: {lot.medicine} lot {lot.lot_number}, {lot.quantity_remaining} in "
                "stock. Count it at the next kit check.",
            )
            return redirect("treatments:kit")
    return render(request, "treatments/kit_receive.html", {"form": form})
