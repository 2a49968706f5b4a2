"""The catalogue of datasets: every table Jingzhun stores, with canonical column names, Chinese headers,
aliases, types, required fields and enumerations.

It is the one contract shared by the generator (which writes files with these headers), ingest (which
reads and validates them), the policy compiler (which checks rules against it) and the exports.

>>> DATASETS["member"].field("id_number").zh
'证件号码'
>>> sorted(d.name for d in feeds())[:3]
['assistance', 'civil_registry', 'disability_cert']
"""

from jingzhun.catalog.datasets import DATASETS, ENUM_ALIASES, ENUMS, dataset, feeds, registry_datasets
from jingzhun.catalog.model import Dataset, Field, FieldType

__all__ = ["DATASETS", "ENUMS", "ENUM_ALIASES", "Dataset", "Field", "FieldType", "dataset", "feeds", "registry_datasets"]
