"""Department data comparison (数据比对): exact and probabilistic (Splink) linkage of feed records to
registered people, the clerk review queue, conflicts between sources (数据打架) and keyed hashes of ID
numbers (数据可用不可见). See docs/LINKAGE.md."""

from jingzhun.link.api import LINK_SCHEMA, LinkResult, LinkSession, link_feed, link_feed_result, review_queue
from jingzhun.link.cache import LinkCache
from jingzhun.link.config import LinkConfig, band_of, default_config, from_dict, load_config
from jingzhun.link.model import Model
from jingzhun.link.quality import precision_recall, quality_report
from jingzhun.link.review import decide, load_decisions

__all__ = [
    "LINK_SCHEMA",
    "LinkCache",
    "LinkConfig",
    "LinkResult",
    "LinkSession",
    "Model",
    "band_of",
    "decide",
    "default_config",
    "from_dict",
    "link_feed",
    "link_feed_result",
    "load_config",
    "load_decisions",
    "precision_recall",
    "quality_report",
    "review_queue",
]
