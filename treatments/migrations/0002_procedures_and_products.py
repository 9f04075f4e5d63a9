"""The clinic's three procedures and six products, so a new database can book.

Managers edit them later in the admin; this migration only runs once.
"""

from decimal import Decimal

from django.db import migrations

from clinic.roles import Role, grant_permissions

TOXIN_AFTERCARE = """\
Stay upright for 4 hours after the injections.
Do not rub, press or massage your lips for 24 hours, so the toxin stays where it was placed.
For 24 hours, skip hard exercise, alcohol, and painkillers such as ibuprofen or aspirin (paracetamol is fine).
Keep away from saunas, steam rooms and hot baths for 48 hours.
Please do not smoke for the next few days: it raises the risk of infection.
The effect builds over 10 to 14 days. Call us if anything worries you before then."""

FILLER_AFTERCARE = """\
If your lips swell, hold a wrapped ice pack to them for a few minutes at a time.
No lipstick, balm or other lip products for 8 hours.
No straws and no kissing for 24 hours.
Keep away from heat (saunas, hot yoga) and hard exercise for 24 to 48 hours.
Please do not smoke for the next few days: it raises the risk of infection.
Do not massage your lips unless your practitioner asked you to.
Call the clinic at once, day or night, if the skin of your lips or nearby turns pale, white or blotchy, if pain is severe or growing, or if your eyesight changes."""

PROCEDURES = [
    # code, name, agent, summary, chair, buffer, pre-care min/rec, aftercare,
    # review, rebook min/max, minimum days between
    (
        "lip-flip",
        "Lip flip",
        "toxin",
        "A few units of Botox or Dysport above the upper lip so it rolls out: more lip shows, no added volume.",
        15,
        10,
        3,
        4,
        TOXIN_AFTERCARE,
        None,
        70,
        84,
        90,
    ),
    (
        "lip-filler",
        "Lip filler",
        "filler",
        "Hyaluronic acid filler (Juvederm or Restylane) for real volume and hydration.",
        45,
        15,
        3,
        4,
        FILLER_AFTERCARE,
        14,
        182,
        365,
        None,
    ),
]

PRODUCTS = [
    # name, brand, agent, unit, units per Botox unit, dilution, lidocaine, cow's milk
    ("Botox Cosmetic", "Botox", "toxin", "U", Decimal("1"), "100 U in 2.5 mL saline", False, False),
    ("Dysport", "Dysport", "toxin", "U", Decimal("2.5"), "300 U in 1.5 mL saline", False, True),
    ("Juvederm Volbella XC", "Juvederm", "filler", "mL", None, "", True, False),
    ("Juvederm Ultra XC", "Juvederm", "filler", "mL", None, "", True, False),
    ("Restylane Kysse", "Restylane", "filler", "mL", None, "", True, False),
    ("Restylane Lyft with Lidocaine", "Restylane", "filler", "mL", None, "", True, False),
]

# product, procedure code, typical, maximum (toxin in its own units, filler in mL
# per session; above 3 mL the session should be split).
DOSES = [
    ("Botox Cosmetic", "lip-flip", "6", "10"),
    ("Dysport", "lip-flip", "15", "25"),
    ("Juvederm Volbella XC", "lip-filler", "1", "3"),
    ("Juvederm Ultra XC", "lip-filler", "1", "3"),
    ("Restylane Kysse", "lip-filler", "1", "3"),
    ("Restylane Lyft with Lidocaine", "lip-filler", "1", "3"),
]  # fmt: skip


def create_catalog(apps, schema_editor):
    Procedure = apps.get_model("treatments", "Procedure")
    Product = apps.get_model("treatments", "Product")
    ProductDose = apps.get_model("treatments", "ProductDose")

    singles = {}
    for (code, name, agent, summary, chair, buffer, pmin, prec, aftercare, review,
         rebook_min, rebook_max, between) in PROCEDURES:  # fmt: skip
        singles[code] = Procedure.objects.create(
            code=code,
            name=name,
            agent=agent,
            summary=summary,
            chair_minutes=chair,
            buffer_minutes=buffer,
            precare_min_days=pmin,
            precare_recommended_days=prec,
            postcare_instructions=aftercare,
            review_after_days=review,
            rebook_after_days_min=rebook_min,
            rebook_after_days_max=rebook_max,
            min_days_between=between,
        )
    combined = Procedure.objects.create(
        code="lip-flip-and-filler",
        name="Lip flip and filler",
        summary="Both in one visit: the flip for shape, filler for volume.",
    )
    combined.components.set(singles.values())

    products = {}
    for name, brand, agent, unit, ratio, dilution, lidocaine, milk in PRODUCTS:
        products[name] = Product.objects.create(
            name=name,
            brand=brand,
            agent=agent,
            unit=unit,
            units_per_botox_unit=ratio,
            default_dilution=dilution,
            contains_lidocaine=lidocaine,
            contains_cows_milk_protein=milk,
        )
    for product, code, typical, maximum in DOSES:
        ProductDose.objects.create(
            product=products[product],
            procedure=singles[code],
            typical=Decimal(typical),
            maximum=Decimal(maximum),
        )


def grant(apps, schema_editor):
    catalog = ["procedure", "product", "productdose", "lot"]
    grant_permissions(
        apps,
        {
            Role.FRONT_DESK: ["treatments.view_procedure"],
            Role.PRACTITIONER: [f"treatments.view_{model}" for model in catalog],
            Role.MANAGER: [
                f"treatments.{action}_{model}"
                for model in catalog
                for action in ("view", "add", "change")
            ],
        },
    )


class Migration(migrations.Migration):
    dependencies = [("treatments", "0001_catalog"), ("clinic", "0002_roles")]

    operations = [
        migrations.RunPython(create_catalog, migrations.RunPython.noop),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
