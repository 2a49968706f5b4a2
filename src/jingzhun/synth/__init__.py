"""The synthetic province/county generator (`jingzhun synth`).

One invented province (code prefix 52) with cities, counties, townships and villages; registered
households and members with incomes; months of department feeds with realistic noise; planted events and
data conflicts; and truth files saying which registered person each feed record belongs to and what was
planted where. See docs/SYNTH.md.

>>> from jingzhun.synth import generate, Manifest
"""

from jingzhun.synth.config import EventRates, NoiseRates, SynthConfig
from jingzhun.synth.generator import FEEDS, REGISTRY, generate
from jingzhun.synth.manifest import FileEntry, Manifest

__all__ = [
    "FEEDS",
    "REGISTRY",
    "EventRates",
    "FileEntry",
    "Manifest",
    "NoiseRates",
    "SynthConfig",
    "generate",
]
