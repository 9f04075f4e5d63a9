"""The medical-history questionnaire's vocabulary: what we ask and how we name it.

One list of questions drives the model's verbose names, the form and the
pages, so a question's wording lives in one place.
"""

from django.db.models import TextChoices


class Anticoagulant(TextChoices):
    """Prescribed blood thinners. Patients are never told to stop these."""

    WARFARIN = "warfarin", "Warfarin"
    APIXABAN = "apixaban", "Apixaban (Eliquis)"
    RIVAROXABAN = "rivaroxaban", "Rivaroxaban (Xarelto)"
    DABIGATRAN = "dabigatran", "Dabigatran (Pradaxa)"
    EDOXABAN = "edoxaban", "Edoxaban (Lixiana)"
    CLOPIDOGREL = "clopidogrel", "Clopidogrel (Plavix)"
    LOW_DOSE_ASPIRIN = "aspirin_prescribed", "Low-dose aspirin prescribed by a doctor"
    OTHER = "other", "Another prescribed blood thinner"


class OverTheCounterThinner(TextChoices):
    """Blood thinners a patient may stop on their own before treatment."""

    ASPIRIN = "aspirin", "Aspirin (not prescribed)"
    NSAIDS = "nsaids", "Ibuprofen, naproxen or other anti-inflammatory painkillers"
    FISH_OIL = "fish_oil", "Fish oil / omega-3"
    VITAMIN_E = "vitamin_e", "Vitamin E"
    GINKGO = "ginkgo", "Ginkgo biloba"
    GARLIC = "garlic", "Garlic tablets"
    ST_JOHNS_WORT = "st_johns_wort", "St John's wort"


# The toxin-elsewhere question looks this far back; its date must fall inside.
TOXIN_ELSEWHERE_MONTHS = 6

# (field, question asked) for every yes/no question, in the order the form
# asks them. Questions added after the first release are nullable in the
# database: a history given before them has no answer, and none is invented.
# The screening table in treatments/rules.py reads the same field names.
YES_NO_QUESTIONS = [
    ("pregnant_or_breastfeeding", "Are you pregnant, trying to conceive, or breastfeeding?"),
    (
        "neuromuscular_disease",
        "Do you have a nerve or muscle condition such as myasthenia gravis, "
        "Lambert-Eaton syndrome or motor neurone disease (ALS)?",
    ),
    (
        "allergy_botulinum_toxin",
        "Have you ever reacted badly to Botox, Dysport or another botulinum toxin?",
    ),
    (
        "reaction_to_ha_filler",
        "Have you ever reacted badly to a hyaluronic-acid filler such as Juvederm or "
        "Restylane (for example lumps, swelling that lasted for weeks, or an allergy)?",
    ),
    ("allergy_cows_milk_protein", "Are you allergic to cow's milk protein?"),
    (
        "allergy_human_albumin",
        "Are you allergic to human albumin (a protein from donated blood that Botox "
        "and Dysport contain)?",
    ),
    (
        "allergy_lidocaine",
        "Are you allergic to lidocaine or other local anaesthetics (the kind dentists use)?",
    ),
    (
        "allergy_gram_positive_bacteria",
        "Have you been told you are allergic to gram-positive bacterial proteins "
        "(a warning on some filler labels)?",
    ),
    (
        "allergy_hyaluronidase_or_bee_venom",
        "Are you allergic to hyaluronidase (the medicine that dissolves filler) or to bee stings?",
    ),
    (
        "anaphylaxis_history",
        "Have you ever had anaphylaxis (a severe, whole-body allergic reaction)?",
    ),
    ("multiple_severe_allergies", "Do you have several severe allergies of any kind?"),
    ("cold_sores", "Do you get cold sores (herpes) on or around the lips?"),
    ("active_cold_sore", "Do you have a cold sore right now?"),
    (
        "infection_at_site",
        "Do you have an infection, rash, spots or inflammation on or around the lips right now?",
    ),
    ("bleeding_disorder", "Do you have a bleeding or clotting disorder (e.g. haemophilia)?"),
    (
        "immunosuppressed",
        "Is your immune system weakened by an illness or by medicines (e.g. steroids, "
        "chemotherapy, transplant medicines)?",
    ),
    (
        "autoimmune_disease",
        "Do you have an autoimmune condition such as lupus, rheumatoid arthritis or scleroderma?",
    ),
    (
        "aminoglycoside_antibiotics",
        "Are you taking an aminoglycoside antibiotic (e.g. gentamicin, tobramycin, neomycin)?",
    ),
    ("keloid_scarring", "Do you get keloid scars (raised, thick scars that keep growing)?"),
    (
        "permanent_lip_filler_or_implant",
        "Do you have permanent filler or an implant in your lips (e.g. silicone)?",
    ),
    (
        "previous_vascular_complication",
        "After a filler injection, have you ever had a blocked blood vessel (skin turning "
        "pale, blue or dark, or an emergency injection to dissolve the filler)?",
    ),
    (
        "toxin_elsewhere",
        "Have you had Botox, Dysport or any anti-wrinkle injection at another clinic in "
        f"the last {TOXIN_ELSEWHERE_MONTHS} months?",
    ),
]

YES_NO_FIELDS = [field for field, _ in YES_NO_QUESTIONS]
# Every yes/no answer "no": the base of demo data and tests.
ALL_NO = dict.fromkeys(YES_NO_FIELDS, False)
