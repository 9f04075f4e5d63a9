"""The safety engine: session dose limits per procedure (in Botox-equivalent
units or mL, with hard ceilings), longer pre-care windows per blood thinner,
and the same-day check (append-only; a PostgreSQL trigger refuses changes).

Existing procedures get limits from DOMAIN.md's figures: lip flip 6 / 10 U
(Botox-equivalent), ceilings 10 U an injection and 20 U a session; lip filler
1 / 3 mL, ceilings 2 mL an injection and 5 mL a session. Any other single
procedure a clinic added keeps no limits until a manager sets them (the page
says so)."""

from decimal import Decimal

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from clinic.db import append_only_trigger
from clinic.roles import Role, grant_permissions

LIMITS = {
    # code: typical, maximum, ceiling for one injection, ceiling for a session
    "lip-flip": ("6", "10", "10", "20"),
    "lip-filler": ("1", "3", "2", "5"),
}


def set_limits(apps, schema_editor):
    Procedure = apps.get_model("treatments", "Procedure")
    for code, (typical, maximum, line, session) in LIMITS.items():
        Procedure.objects.filter(code=code).exclude(agent="").update(
            dose_typical=Decimal(typical),
            dose_maximum=Decimal(maximum),
            dose_line_ceiling=Decimal(line),
            dose_session_ceiling=Decimal(session),
        )


def grant(apps, schema_editor):
    grant_permissions(
        apps,
        {
            Role.PRACTITIONER: [
                "treatments.view_samedaycheck",
                "treatments.add_samedaycheck",
                "treatments.view_substancewindow",
            ],
            Role.MANAGER: [
                "treatments.view_samedaycheck",
                "treatments.view_substancewindow",
                "treatments.add_substancewindow",
                "treatments.change_substancewindow",
                "treatments.delete_substancewindow",
            ],
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0006_appointment_history_state_incomplete"),
        ("treatments", "0006_treatment_record_guards"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SameDayCheck",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("asked_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "asked_on",
                    models.DateField(help_text="The clinic's local date the answers are for."),
                ),
                ("window_kept", models.BooleanField(verbose_name="kept the pre-care window")),
                ("window_from", models.DateField(verbose_name="asked about the days since")),
                (
                    "pregnant_or_breastfeeding",
                    models.BooleanField(verbose_name="pregnant or breastfeeding now"),
                ),
                ("active_cold_sore", models.BooleanField(verbose_name="active cold sore")),
                (
                    "infection_at_site",
                    models.BooleanField(verbose_name="infection or inflammation at the lips"),
                ),
                ("antibiotics_now", models.BooleanField(verbose_name="taking antibiotics now")),
                (
                    "dental_work_recent",
                    models.BooleanField(verbose_name="dental work in the last 2 weeks"),
                ),
                (
                    "illness_or_vaccination_recent",
                    models.BooleanField(verbose_name="illness or vaccination in the last 2 weeks"),
                ),
                (
                    "toxin_elsewhere_on",
                    models.DateField(
                        blank=True,
                        null=True,
                        verbose_name="toxin elsewhere since the last visit, on",
                    ),
                ),
                ("outcome", models.CharField(max_length=8)),
                ("codes", models.JSONField(blank=True, default=list)),
            ],
            options={
                "ordering": ["-asked_at", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="SubstanceWindow",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "substance",
                    models.CharField(
                        choices=[
                            ("aspirin", "Aspirin (not prescribed)"),
                            (
                                "nsaids",
                                "Ibuprofen, naproxen or other anti-inflammatory painkillers",
                            ),
                            ("fish_oil", "Fish oil / omega-3"),
                            ("vitamin_e", "Vitamin E"),
                            ("ginkgo", "Ginkgo biloba"),
                            ("garlic", "Garlic tablets"),
                            ("st_johns_wort", "St John's wort"),
                        ],
                        max_length=20,
                        unique=True,
                        verbose_name="blood thinner",
                    ),
                ),
                (
                    "min_days",
                    models.PositiveSmallIntegerField(
                        validators=[django.core.validators.MinValueValidator(1)],
                        verbose_name="minimum (days)",
                    ),
                ),
                (
                    "recommended_days",
                    models.PositiveSmallIntegerField(
                        validators=[django.core.validators.MinValueValidator(1)],
                        verbose_name="recommended (days)",
                    ),
                ),
            ],
            options={
                "ordering": ["substance"],
            },
        ),
        migrations.AddField(
            model_name="procedure",
            name="dose_line_ceiling",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                help_text="A line above this is refused, whatever the reason: it catches typing errors.",
                max_digits=6,
                null=True,
                verbose_name="ceiling for one injection",
            ),
        ),
        migrations.AddField(
            model_name="procedure",
            name="dose_maximum",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                help_text="Above this, the practitioner must give a clinical reason to sign.",
                max_digits=6,
                null=True,
                verbose_name="maximum dose a session",
            ),
        ),
        migrations.AddField(
            model_name="procedure",
            name="dose_session_ceiling",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                help_text="A session above this is refused, whatever the reason.",
                max_digits=6,
                null=True,
                verbose_name="ceiling for a session",
            ),
        ),
        migrations.AddField(
            model_name="procedure",
            name="dose_typical",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                help_text="Single procedures: toxin in Botox-equivalent units, filler in mL, added up over every product used in one session. Above this, the record shows a warning.",
                max_digits=6,
                null=True,
                verbose_name="typical dose a session",
            ),
        ),
        migrations.AddConstraint(
            model_name="procedure",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("dose_typical__isnull", True),
                    ("dose_maximum__isnull", True),
                    ("dose_line_ceiling__isnull", True),
                    ("dose_session_ceiling__isnull", True),
                    models.Q(
                        ("dose_typical__gt", 0),
                        ("dose_maximum__gte", models.F("dose_typical")),
                        ("dose_session_ceiling__gte", models.F("dose_maximum")),
                        ("dose_line_ceiling__gt", 0),
                        ("dose_line_ceiling__lte", models.F("dose_session_ceiling")),
                    ),
                    _connector="OR",
                ),
                name="treatments_procedure_dose_order",
                violation_error_message="Doses must run typical <= maximum <= session ceiling, with the ceiling for one injection above zero and at most the session ceiling.",
            ),
        ),
        migrations.AddField(
            model_name="samedaycheck",
            name="appointment",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="same_day_checks",
                to="bookings.appointment",
            ),
        ),
        migrations.AddField(
            model_name="samedaycheck",
            name="asked_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="historicaltreatmentrecord",
            name="same_day_check",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="Today's safety answers the treatment relied on.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="treatments.samedaycheck",
            ),
        ),
        migrations.AddField(
            model_name="treatmentrecord",
            name="same_day_check",
            field=models.ForeignKey(
                blank=True,
                help_text="Today's safety answers the treatment relied on.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="treatments.samedaycheck",
            ),
        ),
        migrations.AddConstraint(
            model_name="substancewindow",
            constraint=models.CheckConstraint(
                condition=models.Q(("recommended_days__gte", models.F("min_days"))),
                name="treatments_substancewindow_order",
                violation_error_message="The recommended window cannot be shorter than the minimum.",
            ),
        ),
        migrations.AddIndex(
            model_name="samedaycheck",
            index=models.Index(fields=["appointment", "-asked_at"], name="treatments_sameday_appt"),
        ),
        migrations.RunPython(set_limits, migrations.RunPython.noop),
        migrations.RunPython(grant, migrations.RunPython.noop),
        append_only_trigger("treatments_samedaycheck"),
    ]
