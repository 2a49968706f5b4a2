"""Import of department spreadsheets: readers (xlsx, xls, csv, Parquet), header detection, validation,
quarantine and the import ledger. See docs/INGEST.md.

Entry points: :func:`import_files` (CLI, web upload), :func:`current_files` (pipeline),
:func:`export_rejects` (send rejected rows back to the department).
"""

from jingzhun.ingest.api import ImportResult, expand_paths, import_file, import_files, period_from_path
from jingzhun.ingest.ledger import current_files, current_imports, list_imports, sweep_orphans
from jingzhun.ingest.quarantine import export_rejects, read_quarantine

__all__ = [
    "ImportResult",
    "current_files",
    "current_imports",
    "expand_paths",
    "export_rejects",
    "import_file",
    "import_files",
    "list_imports",
    "period_from_path",
    "read_quarantine",
    "sweep_orphans",
]
