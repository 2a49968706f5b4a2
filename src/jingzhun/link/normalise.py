"""Normalising names for comparison: traditional → simplified for common name characters, full-width →
ASCII, spaces and separator dots removed, Latin letters upper-cased; and pinyin from pypinyin's
single-character dictionary (:func:`pinyin_table`), assembled per distinct name in SQL.

The same rules exist as a Python function (doctested) and as engine-neutral SQL over whole columns
(:func:`jingzhun.link.sql.name_norm`).

>>> normalise_name(" 張 小明 ")
'张小明'
>>> normalise_name("阿不都·热合曼")
'阿不都热合曼'
>>> normalise_name("ＬＩ　Ｍｉｎｇ")
'LIMING'
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import unicodedata
from pathlib import Path

import pyarrow as pa

# Common traditional characters of Chinese surnames and given names, with their simplified form.
_TRAD = (
    "張陳劉黃趙吳楊週鄭孫馬許鄧馮蕭葉蘇盧蔣賈韓錢湯羅謝鍾龍萬鄒譚陸閆嚴華顧齊龔賴範衛聶餘蘭鳳麗國東軍偉強紅"
    "艷輝鵬飛靜婭貴寶興慶傑權義榮勝愛雲電傳廣雙蓮瑩穎學長達進順連開億純發財將濤維運應潔歡環豔嬌絲鄉歲書詩語"
    "劍鋒銀鐵鳴鶴韻黨鄔錦綠瓊顏願夢嶺壽禮俠倫壯園圓堅聖聰蕓藝蘆蓋賢輕邁遠鍋閔陽隊際雞靈響頂頌領頻題風飄養驊"
    "駿騰鬆魯鮑齡標樂團會聯寧溫滿爾蘭鐘劉歐陰薑亞幣觀譽讓貞賓賽輪"
)
_SIMP = (
    "张陈刘黄赵吴杨周郑孙马许邓冯萧叶苏卢蒋贾韩钱汤罗谢钟龙万邹谭陆闫严华顾齐龚赖范卫聂余兰凤丽国东军伟强红"
    "艳辉鹏飞静娅贵宝兴庆杰权义荣胜爱云电传广双莲莹颖学长达进顺连开亿纯发财将涛维运应洁欢环艳娇丝乡岁书诗语"
    "剑锋银铁鸣鹤韵党邬锦绿琼颜愿梦岭寿礼侠伦壮园圆坚圣聪芸艺芦盖贤轻迈远锅闵阳队际鸡灵响顶颂领频题风飘养骅"
    "骏腾松鲁鲍龄标乐团会联宁温满尔兰钟刘欧阴姜亚币观誉让贞宾赛轮"
)
_FULL = "".join(chr(c) for c in range(0xFF21, 0xFF3B)) + "".join(chr(c) for c in range(0xFF41, 0xFF5B))
_HALF = "ABCDEFGHIJKLMNOPQRSTUVWXYZ" * 2
_FULL_DIGITS, _HALF_DIGITS = "０１２３４５６７８９", "0123456789"
if len(_TRAD) != len(_SIMP):  # pragma: no cover - guards the table above
    raise RuntimeError("traditional/simplified tables differ in length")

TRANSLATE_FROM = _TRAD + _FULL + _FULL_DIGITS
TRANSLATE_TO = _SIMP + _HALF + _HALF_DIGITS
_TABLE = str.maketrans(TRANSLATE_FROM, TRANSLATE_TO)
# spaces (ASCII, ideographic, zero-width, BOM) and the dots written inside minority names
STRIP_CHARS = r"\s\x{3000}\x{200b}\x{feff}·•・．.\-_'\""
_STRIP_PY = re.compile(r"[\s\u3000\u200b\ufeff·•・．.\-_'\"]+")


def normalise_name(raw: object) -> str:
    """Normalise one name (see the module docstring)."""
    text = "" if raw is None else str(raw)
    return _STRIP_PY.sub("", text.translate(_TABLE)).upper()


@functools.lru_cache(maxsize=1)
def _pinyin_dict() -> dict[int, str]:
    """pypinyin's single-character dictionary, read from its JSON file (importing the ``pypinyin``
    package would also load the large phrase dictionary, seconds we do not need)."""
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - pypinyin is a dependency
        raise RuntimeError("pypinyin is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "pinyin_dict.json"
    return {int(k): v for k, v in json.loads(path.read_text(encoding="utf-8")).items()}


def _plain(reading: str) -> str:
    """The first reading without tone marks (ü → u).

    >>> _plain("lǚ"), _plain("zhāng,cháng")
    ('lu', 'zhang')
    """
    first = reading.split(",")[0]
    return unicodedata.normalize("NFD", first).encode("ascii", "ignore").decode().lower()


def readings(chars: list[str]) -> list[str]:
    """Pinyin (tone-less, lower case, most common reading) of each character from pypinyin's
    single-character dictionary (simplified and traditional); other characters map to themselves.

    >>> readings(["张", "漢", "A"])
    ['zhang', 'han', 'a']
    """
    table = _pinyin_dict()
    return [_plain(table[ord(ch)]) if len(ch) == 1 and ord(ch) in table else ch.lower() for ch in chars]


def char_pinyin(chars: list[str]) -> pa.Table:
    """:func:`readings` as an Arrow table (ch, py).

    >>> char_pinyin(["张"]).to_pylist()
    [{'ch': '张', 'py': 'zhang'}]
    """
    return pa.table({"ch": pa.array(chars, pa.string()), "py": pa.array(readings(chars), pa.string())})


@functools.lru_cache(maxsize=1)
def pinyin_table() -> pa.Table:
    """Every character of pypinyin's single-character dictionary with its reading (as :func:`readings`):
    about 42,000 rows (ch, py), registered once per linkage session and joined by character.

    >>> t = pinyin_table()
    >>> t.num_rows > 40000, dict(zip(*[t.column(c).to_pylist() for c in ("ch", "py")]))["铭"]
    (True, 'ming')
    """
    table = _pinyin_dict()
    return pa.table({
        "ch": pa.array([chr(k) for k in table], pa.string()),
        "py": pa.array([_plain(v) for v in table.values()], pa.string()),
    })
