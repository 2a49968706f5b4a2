"""The words people read for the identifiers the code uses: one vocabulary for pages, exports, CLI
summaries and error messages, in Simplified Chinese and English.

Labels are not invented here when a definition already holds them: rule titles come from the policy
files (``title: {zh, en}``), dataset and field titles from the catalogue (``Dataset.zh/en``,
``Field.zh/en``), case states, channels and actions from :mod:`jingzhun.cases.workflow` (their English in
the web's message catalogue). This module adds what had no label yet: the alert statuses, the rule
kinds, the run stages and statuses, and the English of the catalogue's enumeration values (which are
stored in Chinese, as departments write them).

>>> rule_title("trigger.serious_illness", "zh"), rule_title("trigger.serious_illness", "en")
('新发重大疾病', 'New serious illness')
>>> dataset_title("medical_claim"), dataset_title("medical_claim", "en")
('医保结算', 'Medical insurance claims')
>>> alert_status("persisting"), alert_status("new", "en")
('持续', 'New')
>>> value("因病", "en"), value("因病", "zh"), value(12.5, "en")
('Illness', '因病', '12.5')
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

Lang = str  # "zh" or "en"

#: alert status in a run's results → (zh, en)
ALERT_STATUS: dict[str, tuple[str, str]] = {
    "new": ("新增", "New"),
    "persisting": ("持续", "Persisting"),
    "cleared": ("解除", "Cleared"),
}
#: rule kind of the policy language → (zh, en)
RULE_KINDS: dict[str, tuple[str, str]] = {
    "trigger": ("风险触发", "Risk trigger"),
    "monitor": ("监测对象识别", "Monitoring type"),
    "exit": ("风险消除核查", "Risk elimination check"),
    "tag": ("政策标签", "Policy tag"),
    "conflict": ("数据冲突", "Data conflict"),
}
#: stage of the monthly run → (zh, en)
RUN_STAGES: dict[str, tuple[str, str]] = {
    "snapshot": ("数据快照", "Snapshot"),
    "load": ("加载", "Load"),
    "link": ("数据比对", "Record linkage"),
    "evaluate": ("政策规则", "Policy rules"),
    "conflicts": ("数据冲突", "Data conflicts"),
    "diff": ("预警比较", "Alert comparison"),
    "write": ("写入结果", "Write results"),
    "handoff": ("预警推送到村", "Alerts handed to villages"),
}
#: status of a monthly run → (zh, en)
RUN_STATUS: dict[str, tuple[str, str]] = {
    "running": ("运行中", "Running"),
    "done": ("已完成", "Done"),
    "failed": ("失败", "Failed"),
    "unchanged": ("无变化", "Unchanged"),
}
#: the counts a run reports in its ledger (``rows``, ``counts``) → (zh, en)
RUN_COUNTS: dict[str, tuple[str, str]] = {
    "links": ("比对上的记录", "linked records"),
    "review": ("待复核", "to review"),
    "flags": ("规则命中", "rule hits"),
    "alerts": ("预警", "alerts"),
    "new": ("新增预警", "new alerts"),
    "persisting": ("持续预警", "persisting alerts"),
    "cleared": ("解除预警", "cleared alerts"),
    "conflicts": ("数据冲突", "data conflicts"),
    "households": ("户", "households"),
    "members": ("人", "people"),
    "datasets": ("数据集", "datasets"),
    "imports": ("导入批次", "imports"),
    "records": ("部门记录", "department records"),
    "rules": ("规则", "rules"),
    "tables": ("结果表", "result tables"),
    "previous_run": ("上次运行", "previous run"),
}

#: English of the catalogue's enumeration values (``catalog.datasets.ENUMS``) and of the other Chinese
#: values people read on a household (ethnic groups keep their Chinese name in English pages too).
VALUES_EN: dict[str, str] = {
    "男": "Male",
    "女": "Female",
    "脱贫户": "Formerly poor household",
    "一般农户": "Ordinary household",
    "脱贫不稳定户": "Unstable formerly poor household",
    "边缘易致贫户": "Marginal household at risk",
    "突发严重困难户": "Household in sudden severe hardship",
    "户主": "Head of household",
    "配偶": "Spouse",
    "之子": "Son",
    "之女": "Daughter",
    "之儿媳": "Daughter-in-law",
    "之女婿": "Son-in-law",
    "之孙子": "Grandson",
    "之孙女": "Granddaughter",
    "之父": "Father",
    "之母": "Mother",
    "之兄弟姐妹": "Sibling",
    "之祖父母": "Grandparent",
    "其他": "Other",
    "学龄前儿童": "Pre-school child",
    "文盲或半文盲": "Illiterate or semi-literate",
    "小学": "Primary school",
    "初中": "Junior secondary",
    "高中": "Senior secondary",
    "中专": "Secondary vocational",
    "大专及以上": "College or above",
    "非在校生": "Not in school",
    "学前教育": "Pre-school",
    "中职": "Secondary vocational",
    "高职高专": "Higher vocational",
    "本科及以上": "Undergraduate or above",
    "健康": "Healthy",
    "长期慢性病": "Chronic illness",
    "大病": "Serious illness",
    "残疾": "Disability",
    "一级": "Grade 1",
    "二级": "Grade 2",
    "三级": "Grade 3",
    "四级": "Grade 4",
    "视力残疾": "Visual",
    "听力残疾": "Hearing",
    "言语残疾": "Speech",
    "肢体残疾": "Physical",
    "智力残疾": "Intellectual",
    "精神残疾": "Mental",
    "多重残疾": "Multiple",
    "技能劳动力": "Skilled labour",
    "普通劳动力": "Ordinary labour",
    "弱劳动力或半劳动力": "Weak or partial labour",
    "丧失劳动力": "Lost capacity to work",
    "无劳动力": "No labour capacity",
    "因病": "Illness",
    "因残": "Disability",
    "因学": "Education costs",
    "因灾": "Disaster",
    "缺土地": "Lack of land",
    "缺水": "Lack of water",
    "缺技术": "Lack of skills",
    "缺劳力": "Lack of labour",
    "缺资金": "Lack of capital",
    "交通条件落后": "Poor transport",
    "自身发展动力不足": "Lack of motivation",
    "因意外事故": "Accident",
    "因产业项目失败": "Failed business project",
    "因务工就业不稳": "Unstable employment",
    "缺劳动力": "Lack of labour",
    "住房出现安全问题": "Unsafe housing",
    "饮水安全问题": "Unsafe drinking water",
    "住院": "Inpatient",
    "门诊": "Outpatient",
    "慢特病门诊": "Chronic-disease outpatient",
    "城乡居民医保": "Resident medical insurance",
    "职工医保": "Employee medical insurance",
    "低保": "Minimum living allowance",
    "特困": "Extreme-poverty support",
    "临时救助": "Temporary assistance",
    "纳入": "Enrolled",
    "在保": "Continuing",
    "退出": "Left",
    "新办": "New",
    "等级变更": "Grade changed",
    "注销": "Cancelled",
    "学前": "Pre-school",
    "高职": "Higher vocational",
    "本科": "Undergraduate",
    "在读": "Enrolled",
    "辍学": "Dropped out",
    "休学": "Suspended",
    "毕业": "Graduated",
    "转学": "Transferred",
    "就业": "Employed",
    "灵活就业": "Flexible employment",
    "失业": "Unemployed",
    "出生": "Birth",
    "死亡": "Death",
    "迁入": "Moved in",
    "迁出": "Moved out",
    "洪涝": "Flood",
    "干旱": "Drought",
    "台风": "Typhoon",
    "地震": "Earthquake",
    "地质灾害": "Landslide",
    "冰雹": "Hail",
    "低温冷冻": "Frost",
    "火灾": "Fire",
    "一般": "Minor",
    "较大": "Major",
    "重大": "Serious",
    "特别重大": "Very serious",
    "是": "Yes",
    "否": "No",
}

#: columns an import adds to every department record (not fields of the catalogue)
RECORD_FIELDS: dict[str, tuple[str, str]] = {
    "record_id": ("记录编号", "Record id"),
    "period": ("期次", "Period"),
    "id_number_raw": ("原始证件号码", "ID number as sent"),
}

_CJK = re.compile(r"[\u4e00-\u9fff]")
_ZH_ASIDE = re.compile(r"\s*[（(][^()（）]*[\u4e00-\u9fff][^()（）]*[)）]")


def _pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[1] if lang == "en" else pair[0]


@cache
def _rules() -> dict[str, tuple[str, str]]:
    """Rule id → (zh, en) title, from the policy files (empty when none are found)."""
    from jingzhun import policy
    from jingzhun.reports.runs import policy_dir

    try:
        ps = policy.load(policy_dir())
    except Exception:
        return {}
    return {rid: (r.title_zh or rid, r.title_en or r.title_zh or rid) for rid, r in ps.rules.items()}


def rule_title(rule_id: str | None, lang: Lang = "zh") -> str:
    """The title of a rule (``trigger.serious_illness`` → 大病 / Serious illness); an unknown id is
    shown as its last part in words (never as the dotted identifier)."""
    if not rule_id:
        return ""
    found = _rules().get(rule_id)
    if found:
        # an English title may name the programme in Chinese, "(低保)": English pages show English only
        return _ZH_ASIDE.sub("", found[1]) if lang == "en" else found[0]
    return rule_id.rsplit(".", 1)[-1].replace("_", " ")


def rule_titles() -> dict[str, tuple[str, str]]:
    """Every rule id with its (zh, en) title, in id order."""
    return dict(_rules())


def rule_kind(kind: str | None, lang: Lang = "zh") -> str:
    return _pick(RULE_KINDS[kind], lang) if kind in RULE_KINDS else (kind or "")


def dataset_title(name: str | None, lang: Lang = "zh") -> str:
    """The title of a catalogue dataset (``medical_claim`` → 医保报销 / Medical insurance claims)."""
    from jingzhun.catalog import datasets

    if not name:
        return ""
    try:
        d = datasets.dataset(name)
    except Exception:
        return name
    return d.en[:1].upper() + d.en[1:] if lang == "en" else d.zh


def field_title(dataset: str, name: str, lang: Lang = "zh") -> str:
    """The header of a dataset's field (``visit_type`` of ``medical_claim`` → 就诊类型 / Visit type)."""
    from jingzhun.catalog import datasets

    try:
        f = datasets.dataset(dataset).field(name)
    except Exception:
        return RECORD_FIELDS.get(name, (name, name))[1 if lang == "en" else 0]
    return f.en[:1].upper() + f.en[1:] if lang == "en" else f.zh


def alert_status(status: str | None, lang: Lang = "zh") -> str:
    return _pick(ALERT_STATUS[status], lang) if status in ALERT_STATUS else (status or "")


def run_stage(stage: str | None, lang: Lang = "zh") -> str:
    return _pick(RUN_STAGES[stage], lang) if stage in RUN_STAGES else (stage or "")


def run_status(status: str | None, lang: Lang = "zh") -> str:
    return _pick(RUN_STATUS[status], lang) if status in RUN_STATUS else (status or "")


def conflict_type(kind: str | None, lang: Lang = "zh") -> str:
    """A data conflict's type in words: the title of its policy rule, else the linkage's label."""
    from jingzhun.link.conflicts import CONFLICT_TYPES

    if not kind:
        return ""
    if f"conflict.{kind}" in _rules():
        return rule_title(f"conflict.{kind}", lang)
    zh = CONFLICT_TYPES.get(kind, kind)
    return word(zh, lang)


def counts(values: dict[str, Any] | None, lang: Lang = "zh", *, datasets: bool = False) -> str:
    """A dict of counts in words: ``{'household': 5639, 'member': 20112}`` → 农户 5,639 · 家庭成员 20,112
    (dataset names when ``datasets``), never a Python dict.

    >>> counts({"new": 3, "cleared": 1}, "en")
    'new alerts 3 · cleared alerts 1'
    """
    if not values:
        return ""
    parts = []
    for key, n in values.items():
        if datasets:
            name = dataset_title(key, lang)
        elif key in RUN_COUNTS:
            name = _pick(RUN_COUNTS[key], lang)
        else:
            name = dataset_title(key, lang)
        shown = f"{n:,}" if isinstance(n, int) else counts(n, lang) if isinstance(n, dict) else str(n)
        parts.append(f"{name} {shown}")
    return " · ".join(parts)


def stage_result(result: dict[str, Any] | None, lang: Lang = "zh") -> str:
    """What a stage of a run reports (its ledger entry without the seconds) in words.

    >>> stage_result({"seconds": 1.0, "rows": {"household": 5639}, "review": 2}, "zh")
    '农户信息 5,639 · 待复核 2'
    """
    if not result:
        return ""
    parts = []
    for key, v in result.items():
        if key == "seconds" or v is None:
            continue
        if isinstance(v, dict):
            parts.append(counts(v, lang, datasets=True))
        else:
            parts.append(counts({key: v}, lang))
    return " · ".join(p for p in parts if p)


@cache
def _web_gettext(lang: Lang) -> Callable[[str], str]:
    from jingzhun.web import i18n

    return i18n.gettext_for(lang)


def word(text: str | None, lang: Lang = "zh") -> str:
    """A Chinese word of the vocabulary (a value, a case state, a channel, an action) in ``lang``."""
    if text is None:
        return ""
    if lang != "en":
        return text
    return VALUES_EN.get(text) or _web_gettext(lang)(text)


def value(v: Any, lang: Lang = "zh") -> str:
    """A stored value as people read it: Chinese enumeration values in ``lang``, booleans as 是/否
    (Yes/No), None as empty, numbers as they are."""
    if v is None:
        return ""
    if v is True or v is False:
        return word("是" if v else "否", lang)
    if isinstance(v, str):
        return word(v, lang) if _CJK.search(v) else v
    return str(v)


def in_language(text: str | None, lang: Lang = "zh") -> str:
    """One language of a message written "中文 / English" (as errors and refusals are): the Chinese
    part on a Chinese page, the English part on an English one; other text as it is.

    >>> in_language("公示期未满（至 2025-03-06）/ the notice runs until 2025-03-06", "en")
    'the notice runs until 2025-03-06'
    >>> in_language("已启动 / run started"), in_language("张三 / 李四", "en")
    ('已启动', '张三 / 李四')
    """
    if not text:
        return ""
    for sep in (" / ", "/ ", " /"):
        zh, found, en = text.partition(sep)
        if found and _CJK.search(zh) and en.strip() and not _CJK.search(en):
            return en.strip() if lang == "en" else zh.strip()
    return text


def has_chinese(text: str) -> bool:
    return bool(_CJK.search(text))
