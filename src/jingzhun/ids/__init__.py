"""Resident ID numbers (GB 11643-1999): normalise, validate, upgrade, derive, mask.

Pure Python functions for single values (doctested here) and DuckDB SQL macros for whole columns
(:mod:`jingzhun.ids.sql`).
"""

from jingzhun.ids.core import (
    REASONS,
    IdCheck,
    birth_date_of,
    check,
    check_character,
    is_valid,
    looks_excel_rounded,
    mask,
    normalise,
    sex_of,
    upgrade_15,
)

__all__ = [
    "REASONS",
    "IdCheck",
    "birth_date_of",
    "check",
    "check_character",
    "is_valid",
    "looks_excel_rounded",
    "mask",
    "normalise",
    "sex_of",
    "upgrade_15",
]
