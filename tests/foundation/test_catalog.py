import openpyxl
import pytest

from jingzhun.catalog import DATASETS, ENUM_ALIASES, ENUMS
from jingzhun.catalog.templates import write_template


@pytest.mark.parametrize("name", list(DATASETS))
def test_headers_are_unambiguous_within_a_dataset(name):
    ds = DATASETS[name]
    seen: dict[str, str] = {}
    for f in ds.fields:
        for header in {h.lower() for h in f.headers()}:
            assert header not in seen, f"{name}: header {header!r} maps to {seen.get(header)} and {f.name}"
            seen[header] = f.name
        if f.type == "enum":
            assert f.enum in ENUMS, f.name


def test_enum_aliases_map_to_canonical_labels():
    for enum, mapping in ENUM_ALIASES.items():
        for alias, canonical in mapping.items():
            assert canonical in ENUMS[enum], (enum, alias, canonical)


def test_feeds_have_dates_and_person_level_feeds_have_person_fields():
    for ds in DATASETS.values():
        if ds.kind == "feed":
            assert ds.date_field and ds.has(ds.date_field)
            assert ds.key == ("record_id",)
            if ds.person_level:
                assert ds.has("id_number") and ds.has("name")
            else:
                assert ds.has("village_code")


@pytest.mark.parametrize("name", ["member", "medical_claim"])
def test_template_has_chinese_headers_and_dropdowns(tmp_path, name):
    path = write_template(name, tmp_path / f"{name}.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert headers == [f.zh for f in DATASETS[name].fields]
    assert sheet.data_validations.dataValidation, "enum columns offer drop-down lists"
    assert "说明" in book.sheetnames
