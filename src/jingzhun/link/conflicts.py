"""Conflicts between sources (数据打架): facts about the same person or household that two sources state
differently, each with both sources' values and a Chinese explanation.

Engine-neutral SQL run through an :class:`~jingzhun.engines.base.Engine` (every CTE name unique in the
whole query: Spark's SQL puts nested CTEs in one WITH list). Feed relations should carry
``person_id`` from linkage; a feed without it is joined on the normalised ID number instead.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from jingzhun.link import sql as q
from jingzhun.link.sql import columns_of, tree

CONFLICT_SCHEMA = pa.schema(
    [
        ("conflict_type", pa.string()),
        ("person_id", pa.string()),
        ("household_id", pa.string()),
        ("source_a", pa.string()),
        ("value_a", pa.string()),
        ("source_b", pa.string()),
        ("value_b", pa.string()),
        ("detail_zh", pa.string()),
    ]
)

CONFLICT_TYPES = {
    "dead_still_listed": "已死亡仍在册",
    "id_on_two_households": "同一证件号码登记在多户",
    "dual_medical_insurance": "重复参保（城乡居民医保与职工医保）",
    "disability_grade_mismatch": "残疾等级与残联不一致",
    "lack_labour_but_able": "风险类型为缺劳动力但多数成员有劳动能力",
    "school_status_mismatch": "在校生状况与学籍不一致",
}

ABLE = "('技能劳动力', '普通劳动力')"
# registry school status → enrolment stage
STAGE_OF_STATUS = {
    "学前教育": "学前",
    "小学": "小学",
    "初中": "初中",
    "高中": "高中",
    "中职": "中职",
    "高职高专": "高职",
    "本科及以上": "本科",
}


def _link(con: Any, feed: str) -> str:
    if "person_id" in columns_of(con, feed):
        return "m.person_id = f.person_id"
    upgraded = q.id_upgrade_normalised(q.id_normalise("f.id_number"))
    return f"m.id_number = {upgraded}"


def _dead(con: Any, member: str, feed: str) -> str:
    return f"""
        SELECT 'dead_still_listed', m.person_id, m.household_id,
               '公安', '死亡 ' || strftime(max(f.event_date), '%Y-%m-%d'),
               '建档立卡', '在册',
               '公安户籍登记 ' || m.name || ' 已于 ' || strftime(max(f.event_date), '%Y-%m-%d') ||
               ' 死亡，但仍在家庭成员名单中，请核实并办理减员'
        FROM {feed} f JOIN {member} m ON {_link(con, feed)}
        WHERE f.event = '死亡'
        GROUP BY m.person_id, m.household_id, m.name
    """


def _duplicate_id(member: str) -> str:
    return f"""
        WITH pairs AS (SELECT DISTINCT id_number, household_id FROM {member} WHERE id_number IS NOT NULL),
        d AS (
            SELECT id_number, string_agg(household_id, ', ' ORDER BY household_id) AS households,
                   count(*) AS n
            FROM pairs GROUP BY id_number HAVING count(*) > 1
        )
        SELECT 'id_on_two_households', m.person_id, m.household_id, '建档立卡', m.household_id,
               '建档立卡', d.households,
               '证件号码 ' || {q.mask("m.id_number")} || ' 同时登记在 ' || d.n || ' 户（' || d.households ||
               '），请核实身份并删除重复记录'
        FROM {member} m JOIN d USING (id_number)
    """


def _dual_insurance(con: Any, member: str, feed: str) -> str:
    return f"""
        SELECT 'dual_medical_insurance', m.person_id, m.household_id,
               '医保:城乡居民医保',
               count(*) FILTER (WHERE f.insurance_type = '城乡居民医保') || ' 笔结算，最近 ' ||
                   strftime(max(f.claim_date) FILTER (WHERE f.insurance_type = '城乡居民医保'), '%Y-%m-%d'),
               '医保:职工医保', count(*) FILTER (WHERE f.insurance_type = '职工医保') || ' 笔结算，最近 ' ||
                   strftime(max(f.claim_date) FILTER (WHERE f.insurance_type = '职工医保'), '%Y-%m-%d'),
               m.name || ' 同时在城乡居民医保和职工医保下有结算记录，可能重复参保'
        FROM {feed} f JOIN {member} m ON {_link(con, feed)}
        GROUP BY m.person_id, m.household_id, m.name
        HAVING count(DISTINCT f.insurance_type)
               FILTER (WHERE f.insurance_type IN ('城乡居民医保', '职工医保')) = 2
    """


def _disability(con: Any, member: str, feed: str) -> str:
    return f"""
        WITH latest_cert AS (
            SELECT m.person_id, m.household_id, m.name, m.disability_grade AS registry_grade,
                   f.disability_grade AS cert_grade, f.cert_status, f.issue_date,
                   row_number() OVER (PARTITION BY m.person_id
                                      ORDER BY f.issue_date DESC, f.record_id DESC) AS rn
            FROM {feed} f JOIN {member} m ON {_link(con, feed)}
        )
        SELECT 'disability_grade_mismatch', person_id, household_id,
               '建档立卡', coalesce(registry_grade, '无'),
               '残联', cert_grade,
               name || ' 残疾等级：建档立卡为' || coalesce(registry_grade, '无') || '，残联 ' ||
               strftime(issue_date, '%Y-%m-%d') || ' ' || cert_status || '为' || cert_grade
        FROM latest_cert
        WHERE rn = 1 AND cert_status <> '注销' AND registry_grade IS DISTINCT FROM cert_grade
    """


def _labour(member: str, household: str) -> str:
    return f"""
        SELECT 'lack_labour_but_able',
               min(m.person_id) FILTER (WHERE m.relation = '户主'), h.household_id,
               '建档立卡:风险类型', h.risk_type,
               '建档立卡:劳动技能', count(*) FILTER (WHERE m.labour_capacity IN {ABLE}) || '/' || count(*) ||
                   ' 人有劳动能力',
               '风险类型为缺劳动力，但家庭 ' || count(*) || ' 人中有 ' ||
               count(*) FILTER (WHERE m.labour_capacity IN {ABLE}) || ' 人为普通或技能劳动力'
        FROM {household} h JOIN {member} m ON m.household_id = h.household_id
        WHERE h.risk_type = '缺劳动力'
        GROUP BY h.household_id, h.risk_type
        HAVING 2 * count(*) FILTER (WHERE m.labour_capacity IN {ABLE}) > count(*)
    """


def _school(con: Any, member: str, feed: str) -> str:
    stage_map = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in STAGE_OF_STATUS.items())
    return f"""
        WITH latest_status AS (
            SELECT m.person_id, m.household_id, m.name, m.school_status, f.stage, f.status, f.status_date,
                   CASE m.school_status {stage_map} END AS registry_stage,
                   row_number() OVER (PARTITION BY m.person_id
                                      ORDER BY f.status_date DESC, f.record_id DESC) AS rn
            FROM {feed} f JOIN {member} m ON {_link(con, feed)}
        )
        SELECT 'school_status_mismatch', person_id, household_id, '建档立卡', coalesce(school_status, '未填'),
               '教育', stage || ' ' || status || ' ' || strftime(status_date, '%Y-%m-%d'),
               name || ' 在校生状况：建档立卡为' || coalesce(school_status, '未填') ||
               '，学籍为' || stage || status ||
               CASE WHEN status = '在读' AND coalesce(school_status, '非在校生') = '非在校生'
                        THEN '（登记为非在校生但学籍在读）'
                    WHEN status IN ('辍学', '休学') THEN '（登记为在校生但学籍显示' || status || '）'
                    ELSE '（学段不一致）' END
        FROM latest_status
        WHERE rn = 1 AND (
            (status = '在读' AND coalesce(school_status, '非在校生') = '非在校生')
            OR (status IN ('辍学', '休学') AND registry_stage IS NOT NULL)
            OR (status = '在读' AND registry_stage IS NOT NULL AND registry_stage <> stage))
    """


def find_conflicts(
    engine: Any,
    member: str = "member",
    household: str | None = "household",
    *,
    civil_registry: str | None = None,
    medical_claim: str | None = None,
    disability_cert: str | None = None,
    enrolment: str | None = None,
    into: str | None = None,
) -> pa.Table | None:
    """Every conflict found between the registry (``member``, ``household``) and the given feeds
    (relation names registered on ``engine``, an :class:`~jingzhun.engines.base.Engine` or a DuckDB
    connection; None skips that check). Returns :data:`CONFLICT_SCHEMA` rows ordered by conflict type,
    household and person. ID numbers in the explanation are masked. With ``into`` the conflicts are kept
    in the engine as that table (not sorted) and None is returned.
    """
    from jingzhun.link.api import as_engine

    con = as_engine(engine)
    parts = [_duplicate_id(member)]
    if household:
        parts.append(_labour(member, household))
    if civil_registry:
        parts.append(_dead(con, member, civil_registry))
    if medical_claim:
        parts.append(_dual_insurance(con, member, medical_claim))
    if disability_cert:
        parts.append(_disability(con, member, disability_cert))
    if enrolment:
        parts.append(_school(con, member, enrolment))
    names = ", ".join(CONFLICT_SCHEMA.names)
    union = " UNION ALL ".join(f"SELECT * FROM ({p})" for p in parts)
    if into is not None:
        con.materialize(into, tree(q.cast_to_schema(f"SELECT * FROM ({union}) AS c({names})", CONFLICT_SCHEMA)))
        return None
    sql = (
        f"SELECT * FROM ({union}) AS c({names}) "
        "ORDER BY conflict_type, household_id, person_id NULLS FIRST, value_a, value_b"
    )
    return con.fetch_arrow(tree(sql)).cast(CONFLICT_SCHEMA)
