"""Every Chinese text the templates translate has an English translation."""

from __future__ import annotations

import re
from pathlib import Path

from jingzhun.cases import workflow
from jingzhun.web import forms, i18n
from jingzhun.web.pages.alerts import CASE_FILTERS
from jingzhun.web.pages.cases import EVENTS_ZH
from jingzhun.web.pages.home import CARD_LABELS
from jingzhun.web.pages.imports import UNDATED
from jingzhun.web.pages.runs import STAGES_ZH, STATUS_ZH
from jingzhun.web.regional import BANDS_ZH, COVERAGE_ZH
from jingzhun.web.views import nav_for

WEB = Path(i18n.__file__).parents[1]


def test_every_template_message_is_translated():
    en = i18n.translations("en")
    ids = set()
    for path in [*WEB.glob("templates/*.html"), *WEB.glob("pages/*.py")]:
        text = path.read_text()
        ids |= set(re.findall(r"""_\(["']([^"']*[\u4e00-\u9fff][^"']*)["']\)""", text))
        ids |= set(re.findall(r"""_t\(\s*lang,\s*["']([^"']*[\u4e00-\u9fff][^"']*)["']""", text))
    ids |= set(workflow.STATES.values()) | set(workflow.ACTIONS.values()) | set(workflow.CHANNELS.values())
    ids |= set(workflow.MEASURE_TYPES) | set(forms.MESSAGES) | set(EVENTS_ZH.values())
    ids |= (
        set(COVERAGE_ZH.values()) | set(BANDS_ZH.values()) | set(STAGES_ZH.values()) | set(STATUS_ZH.values())
    )
    ids |= set(CASE_FILTERS.values()) | set(CARD_LABELS.values()) | {UNDATED}
    from jingzhun.auth.users import Principal

    ids |= {label for _, label in nav_for(Principal(1, "x", "county", "520121000000"))}
    missing = sorted(m for m in ids if en.gettext(m) == m)
    assert len(ids) > 150 and missing == []
