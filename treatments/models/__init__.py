"""The treatments app's models, by layer: the catalog, consent, clinical
records. Django and callers import them from here (`treatments.models`)."""

from treatments.models.catalog import (  # noqa: F401
    Lot,
    LotQuerySet,
    Procedure,
    ProcedureQuerySet,
    Product,
    ProductDose,
    ProductQuerySet,
    SubstanceWindow,
    Timing,
)
from treatments.models.complications import (  # noqa: F401
    Complication,
    ComplicationCheckIn,
    ComplicationCheckInQuerySet,
    ComplicationQuerySet,
    ComplicationStep,
    RegulatorReport,
)
from treatments.models.consent import (  # noqa: F401
    ConsentForm,
    ConsentFormQuerySet,
    ConsentRequest,
    ConsentSignature,
)
from treatments.models.kit import (  # noqa: F401
    KitCheck,
    KitCheckItem,
    KitLot,
    KitMedicine,
    KitSettings,
)
from treatments.models.photo_consent import (  # noqa: F401
    Marketing,
    PhotoConsent,
    PhotoConsentForm,
    Use,
)
from treatments.models.photos import Photo, PhotoQuerySet  # noqa: F401
from treatments.models.prescriptions import (  # noqa: F401
    PrescriberAssessment,
    Prescription,
    PrescriptionItem,
    PrescriptionQuerySet,
    PrescriptionWithdrawal,
)
from treatments.models.records import (  # noqa: F401
    Addendum,
    InjectionLine,
    SameDayCheck,
    TreatmentRecord,
    TreatmentRecordQuerySet,
)
from treatments.models.reports import (  # noqa: F401
    PatientReport,
    PatientReportQuerySet,
    PatientReportReview,
)
