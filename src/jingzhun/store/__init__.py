"""The data folder: Parquet datasets (the analytical system of record) and where each kind of file lives.

Layout of a data folder (default ``./jingzhun-data``)::

    ops.sqlite                                   operational store (imports, runs, cases, users, audit)
    datasets/<dataset>/period=YYYY-MM/<import_id>.parquet   accepted rows of one import
    quarantine/<import_id>.parquet               rejected rows of one import, with their reasons
    runs/<run_id>/<table>.parquet                results of one monthly run (flags, tags, links, ...)
    reference/region.parquet                     the region code list (code, name, level, parent_code)

Every write goes to a temporary name in the same folder and is renamed into place, so readers never see
half a file and a killed process leaves nothing behind but a ``.tmp-*`` file that is ignored and swept.
"""

from jingzhun.store.layout import DataFolder, atomic_dir, atomic_file

__all__ = ["DataFolder", "atomic_dir", "atomic_file"]
