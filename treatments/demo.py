"""Demo stock: a lot or two of every product, one expired, one nearly used up."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from treatments.models import Lot, Product

# product, lot number, months to expiry (negative: expired), received, remaining
LOTS = [
    ("Botox Cosmetic", "C3791AC4", 14, "400", "372"),
    ("Botox Cosmetic", "C3550AB1", -1, "100", "100"),
    ("Dysport", "P12874", 10, "600", "588"),
    ("Juvederm Volbella XC", "VB40A71", 18, "10", "7"),
    ("Juvederm Ultra XC", "UX22C09", 20, "5", "4"),
    ("Restylane Kysse", "18743-1", 16, "10", "9"),
    ("Restylane Lyft with Lidocaine", "17912-2", 2, "3", "0.5"),
]


def seed_stock(*, by, now=None):
    today = timezone.localdate(now or timezone.now())
    products = {p.name: p for p in Product.objects.all()}
    for name, number, months, received, remaining in LOTS:
        Lot.objects.get_or_create(
            product=products[name],
            lot_number=number,
            defaults={
                "expiry_date": today + timedelta(days=30 * months),
                "quantity_received": Decimal(received),
                "quantity_remaining": Decimal(remaining),
                "received_on": today - timedelta(days=60),
                "received_by": by,
            },
        )
