"""Stock: deliveries of lots."""

from django.db import transaction
from django.utils import timezone

from clinic.refusals import Refusal

LOT_ALREADY_EXPIRED = Refusal(
    "lot_already_expired",
    "This lot expired on %(expiry)s. Do not put it into stock; return it.",
)
LOT_EXPIRY_MISMATCH = Refusal(
    "lot_expiry_mismatch",
    "Lot %(lot)s of %(product)s is already recorded with expiry %(recorded)s, not "
    "%(given)s. Check the box label; if the label really differs, ask the supplier.",
)
QUANTITY_NOT_POSITIVE = Refusal(
    "quantity_not_positive",
    "Enter how much arrived: a number above zero.",
)
LOT_NUMBER_MISSING = Refusal(
    "lot_number_missing",
    "Enter the lot number exactly as printed on the box.",
)


def receive(lots, *, owner, lot_number, expiry_date, quantity, received_by, now=None):
    """A delivery of `owner` (a product, or a kit medicine) into `lots` (its
    lot manager, locked). A lot number seen before adds to that lot's stock;
    the caller holds the transaction."""
    today = timezone.localdate(now or timezone.now())
    lot_number = lot_number.strip().upper()
    if not lot_number or "\x00" in lot_number:
        raise LOT_NUMBER_MISSING.error()
    if quantity is None or quantity <= 0:
        raise QUANTITY_NOT_POSITIVE.error()
    if expiry_date < today:
        raise LOT_ALREADY_EXPIRED.error(expiry=expiry_date.strftime("%d %b %Y"))
    lot = lots.select_for_update().filter(lot_number=lot_number).first()
    if lot is None:
        lot = lots.model(
            lot_number=lot_number,
            expiry_date=expiry_date,
            quantity_received=quantity,
            quantity_remaining=quantity,
            received_on=today,
            received_by=received_by,
            **{lots.field.name: owner},
        )
    elif lot.expiry_date != expiry_date:
        raise LOT_EXPIRY_MISMATCH.error(
            lot=lot_number,
            product=owner,
            recorded=lot.expiry_date.strftime("%d %b %Y"),
            given=expiry_date.strftime("%d %b %Y"),
        )
    else:
        lot.quantity_received += quantity
        lot.quantity_remaining += quantity
    lot.full_clean()
    lot.save()
    return lot


@transaction.atomic
def lot_receive(*, product, lot_number, expiry_date, quantity, received_by, now=None):
    """Record a delivery. A lot number seen before adds to that lot's stock."""
    return receive(
        product.lots,
        owner=product,
        lot_number=lot_number,
        expiry_date=expiry_date,
        quantity=quantity,
        received_by=received_by,
        now=now,
    )
