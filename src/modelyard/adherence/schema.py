"""The shape of the UCI "Diabetes 130-US hospitals" data and its medication vocabulary.

Pure constants: which columns a batch must carry, their types, the 23 medication ("brand")
columns, and the drug classes each brand belongs to (combination products belong to two).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "BRAND_CLASSES",
    "DOSE_VALUES",
    "EXCLUDED_DISCHARGE_IDS",
    "ID_COLUMNS",
    "INTEGER_COLUMNS",
    "LABEL_COLUMN",
    "MEDICATION_COLUMNS",
    "MISSING",
    "REQUIRED_COLUMNS",
    "STRING_COLUMNS",
]

MISSING: Final = "?"
"""How the source codes a missing value."""

LABEL_COLUMN: Final = "readmitted"

ID_COLUMNS: Final = ("encounter_id", "patient_nbr")

MEDICATION_COLUMNS: Final = (
    "metformin",
    "repaglinide",
    "nateglinide",
    "chlorpropamide",
    "glimepiride",
    "acetohexamide",
    "glipizide",
    "glyburide",
    "tolbutamide",
    "pioglitazone",
    "rosiglitazone",
    "acarbose",
    "miglitol",
    "troglitazone",
    "tolazamide",
    "examide",
    "citoglipton",
    "insulin",
    "glyburide-metformin",
    "glipizide-metformin",
    "glimepiride-pioglitazone",
    "metformin-rosiglitazone",
    "metformin-pioglitazone",
)

DOSE_VALUES: Final = ("No", "Steady", "Up", "Down")
"""Values of a medication column: not taken, or taken with this dose change."""

_BIG = "biguanide"
_SU = "sulfonylurea"
_TZD = "thiazolidinedione"
_MEG = "meglitinide"
_AGI = "alpha_glucosidase_inhibitor"

BRAND_CLASSES: Final[dict[str, tuple[str, ...]]] = {
    "metformin": (_BIG,),
    "repaglinide": (_MEG,),
    "nateglinide": (_MEG,),
    "chlorpropamide": (_SU,),
    "glimepiride": (_SU,),
    "acetohexamide": (_SU,),
    "glipizide": (_SU,),
    "glyburide": (_SU,),
    "tolbutamide": (_SU,),
    "pioglitazone": (_TZD,),
    "rosiglitazone": (_TZD,),
    "acarbose": (_AGI,),
    "miglitol": (_AGI,),
    "troglitazone": (_TZD,),
    "tolazamide": (_SU,),
    # The source lists these two among the diabetes medications; examide (torsemide) is a
    # loop diuretic and "citoglipton" is read as sitagliptin, a DPP-4 inhibitor.
    "examide": ("other",),
    "citoglipton": ("dpp4_inhibitor",),
    "insulin": ("insulin",),
    "glyburide-metformin": (_SU, _BIG),
    "glipizide-metformin": (_SU, _BIG),
    "glimepiride-pioglitazone": (_SU, _TZD),
    "metformin-rosiglitazone": (_BIG, _TZD),
    "metformin-pioglitazone": (_BIG, _TZD),
}

EXCLUDED_DISCHARGE_IDS: Final = (11, 13, 14, 19, 20, 21)
"""discharge_disposition_id values meaning death or hospice."""

COUNT_COLUMNS: Final = (
    "time_in_hospital",
    "num_lab_procedures",
    "num_procedures",
    "num_medications",
    "number_outpatient",
    "number_emergency",
    "number_inpatient",
    "number_diagnoses",
)
INTEGER_COLUMNS: Final = (
    "encounter_id",
    "patient_nbr",
    "admission_type_id",
    "discharge_disposition_id",
    "admission_source_id",
    *COUNT_COLUMNS,
)

STRING_COLUMNS: Final = (
    "race",
    "gender",
    "age",
    "weight",
    "payer_code",
    "medical_specialty",
    "diag_1",
    "diag_2",
    "diag_3",
    "max_glu_serum",
    "A1Cresult",
    *MEDICATION_COLUMNS,
    "change",
    "diabetesMed",
)

REQUIRED_COLUMNS: Final = (*INTEGER_COLUMNS, *STRING_COLUMNS)
"""Every column a batch must carry (the label column is needed for training only)."""
