"""Every dataset Jingzhun knows: the registry (households, members, income), the reference region table,
and the department feeds. Chinese headers follow real exports (DOMAIN.md).
"""

from __future__ import annotations

from jingzhun.catalog.model import Dataset, Field

# Canonical labels of each enumeration, in display order.
ENUMS: dict[str, tuple[str, ...]] = {
    "sex": ("男", "女"),
    "region_level": ("province", "city", "county", "township", "village"),
    "household_type": ("脱贫户", "一般农户"),
    "monitoring_type": ("脱贫不稳定户", "边缘易致贫户", "突发严重困难户"),
    "relation": (
        "户主", "配偶", "之子", "之女", "之儿媳", "之女婿", "之孙子", "之孙女", "之父", "之母",
        "之兄弟姐妹", "之祖父母", "其他",
    ),
    "ethnicity": tuple(
        ["汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族", "满族", "侗族", "瑶族", "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族", "佤族", "畲族", "高山族", "拉祜族", "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族", "阿昌族", "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族", "保安族", "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族", "其他"]
    ),
    "education": ("学龄前儿童", "文盲或半文盲", "小学", "初中", "高中", "中专", "大专及以上"),
    "school_status": ("非在校生", "学前教育", "小学", "初中", "高中", "中职", "高职高专", "本科及以上"),
    "health": ("健康", "长期慢性病", "大病", "残疾"),
    "disability_grade": ("一级", "二级", "三级", "四级"),
    "disability_type": ("视力残疾", "听力残疾", "言语残疾", "肢体残疾", "智力残疾", "精神残疾", "多重残疾"),
    "labour_capacity": ("技能劳动力", "普通劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力"),
    "poverty_cause": (
        "因病", "因残", "因学", "因灾", "缺土地", "缺水", "缺技术", "缺劳力", "缺资金", "交通条件落后",
        "自身发展动力不足",
    ),
    "risk_type": (
        "因病", "因残", "因学", "因灾", "因意外事故", "因产业项目失败", "因务工就业不稳", "缺劳动力",
        "住房出现安全问题", "饮水安全问题", "其他",
    ),
    "house_grade": ("A", "B", "C", "D"),
    "visit_type": ("住院", "门诊", "慢特病门诊"),
    "insurance_type": ("城乡居民医保", "职工医保"),
    "assistance_type": ("低保", "特困", "临时救助"),
    "assistance_change": ("纳入", "在保", "退出"),
    "cert_status": ("新办", "等级变更", "注销"),
    "school_stage": ("学前", "小学", "初中", "高中", "中职", "高职", "本科"),
    "enrolment_status": ("在读", "辍学", "休学", "毕业", "转学"),
    "employment_status": ("就业", "灵活就业", "失业"),
    "civil_event": ("出生", "死亡", "迁入", "迁出"),
    "disaster_type": ("洪涝", "干旱", "台风", "地震", "地质灾害", "冰雹", "低温冷冻", "火灾", "其他"),
    "disaster_severity": ("一般", "较大", "重大", "特别重大"),
}

# Other spellings people use, mapped to the canonical label (ingest applies these; case-insensitive).
ENUM_ALIASES: dict[str, dict[str, str]] = {
    "sex": {"m": "男", "f": "女", "male": "男", "female": "女", "1": "男", "2": "女", "男性": "男", "女性": "女"},
    "household_type": {"脱贫": "脱贫户", "已脱贫户": "脱贫户", "一般户": "一般农户", "普通农户": "一般农户",
                       "农户": "一般农户"},
    "monitoring_type": {"不稳定户": "脱贫不稳定户", "边缘户": "边缘易致贫户", "边缘易致贫": "边缘易致贫户",
                        "突发困难户": "突发严重困难户", "严重困难户": "突发严重困难户"},
    "relation": {"本人": "户主", "妻": "配偶", "夫": "配偶", "儿子": "之子", "女儿": "之女", "父亲": "之父",
                 "母亲": "之母", "孙子": "之孙子", "孙女": "之孙女", "儿媳": "之儿媳", "女婿": "之女婿"},
    "education": {"文盲": "文盲或半文盲", "半文盲": "文盲或半文盲", "大专": "大专及以上", "本科": "大专及以上",
                  "本科及以上": "大专及以上", "中职": "中专", "学龄前": "学龄前儿童"},
    "health": {"患有大病": "大病", "慢性病": "长期慢性病", "残疾人": "残疾"},
    "disability_grade": {"1": "一级", "2": "二级", "3": "三级", "4": "四级", "1级": "一级", "2级": "二级",
                         "3级": "三级", "4级": "四级", "一": "一级", "二": "二级", "三": "三级", "四": "四级"},
    "disability_type": {"视力": "视力残疾", "听力": "听力残疾", "言语": "言语残疾", "肢体": "肢体残疾",
                        "智力": "智力残疾", "精神": "精神残疾", "多重": "多重残疾"},
    "labour_capacity": {"弱劳动力": "弱劳动力或半劳动力", "半劳动力": "弱劳动力或半劳动力",
                        "丧失劳动能力": "丧失劳动力", "无劳动能力": "无劳动力"},
    "house_grade": {"a级": "A", "b级": "B", "c级": "C", "d级": "D"},
    "visit_type": {"门诊慢特病": "慢特病门诊", "慢病门诊": "慢特病门诊", "普通门诊": "门诊", "住院治疗": "住院"},
    "insurance_type": {"城乡居民基本医疗保险": "城乡居民医保", "居民医保": "城乡居民医保",
                       "城镇职工基本医疗保险": "职工医保", "职工基本医疗保险": "职工医保"},
    "assistance_type": {"最低生活保障": "低保", "农村低保": "低保", "特困供养": "特困", "五保": "特困"},
    "assistance_change": {"新增": "纳入", "新纳入": "纳入", "续保": "在保", "停保": "退出", "停发": "退出"},
    "enrolment_status": {"在校": "在读", "退学": "辍学", "失学": "辍学"},
    "employment_status": {"在岗": "就业", "务工": "就业", "失业登记": "失业"},
    "civil_event": {"死亡注销": "死亡", "出生登记": "出生"},
}


def F(name: str, zh: str, en: str, type: str = "string", **kw: object) -> Field:
    return Field(name, zh, en, type, **kw)  # type: ignore[arg-type]


def _person_fields(id_required: bool = False) -> tuple[Field, ...]:
    """Fields by which a department record is tied to a person (exactly or probabilistically)."""
    return (
        F("id_number", "证件号码", "ID number", "id_number", required=id_required, pii=True,
          aliases=("身份证号", "身份证号码", "公民身份号码", "身份证件号码", "idcard"), doc="may be missing or mistyped"),
        F("name", "姓名", "name", required=True, aliases=("人员姓名", "患者姓名", "学生姓名", "户主姓名")),
        F("sex", "性别", "sex", "enum", enum="sex"),
        F("birth_date", "出生日期", "birth date", "date", aliases=("出生年月",)),
        F("region_code", "住址区划代码", "address region code", "region_code", aliases=("区划代码", "村代码")),
        F("phone", "联系电话", "phone", pii=True, aliases=("手机号", "电话")),
    )


REGION = Dataset(
    "region", "行政区划", "regions", "reference",
    (
        F("code", "统计用区划代码", "division code", "region_code", required=True, aliases=("代码", "区划代码")),
        F("name", "名称", "name", required=True, aliases=("区划名称",)),
        F("level", "级别", "level", "enum", enum="region_level"),
        F("parent_code", "上级代码", "parent code", "region_code"),
    ),
    key=("code",),
)

HOUSEHOLD = Dataset(
    "household", "农户信息", "households", "registry",
    (
        F("household_id", "户编号", "household id", required=True, aliases=("户码", "户号")),
        F("village_code", "行政村代码", "village code", "region_code", required=True,
          aliases=("村代码", "统计用区划代码")),
        F("county_name", "县", "county", aliases=("县(市、区)", "县（市、区）")),
        F("township_name", "乡(镇)", "township", aliases=("乡镇", "乡（镇）")),
        F("village_name", "行政村", "village", aliases=("村",)),
        F("natural_village", "自然村", "natural village", aliases=("自然村(组)", "组")),
        F("household_type", "户类型", "household type", "enum", required=True, enum="household_type",
          aliases=("户属性",)),
        F("monitoring_type", "监测对象类别", "monitoring type", "enum", enum="monitoring_type",
          aliases=("监测对象类型", "监测户类型")),
        F("poverty_cause", "主要致贫原因", "main poverty cause", "enum", enum="poverty_cause",
          aliases=("致贫原因",)),
        F("risk_type", "风险类型", "risk type", "enum", enum="risk_type", aliases=("主要风险类型", "返贫致贫风险")),
        F("household_size", "家庭人口数", "household size", "int", min=1, max=30, aliases=("户人数", "人口数")),
        F("dangerous_house", "是否危房户", "dangerous house", "bool", aliases=("危房户",)),
        F("house_grade", "危房级别", "house safety grade", "enum", enum="house_grade", aliases=("房屋等级",)),
        F("safe_water", "是否解决安全饮用水", "safe drinking water", "bool", aliases=("饮水安全",)),
        F("phone", "户联系电话", "household phone", pii=True, aliases=("联系电话",)),
        F("bank_account", "银行账号", "bank account", pii=True, aliases=("开户账号", "一卡通账号"), digit_id=True),
        F("first_identified", "首次识别时间", "first identified", "date"),
        F("exit_year", "脱贫年度", "year lifted out", "int", min=2014, max=2030),
        F("helper", "帮扶责任人", "assigned helper", aliases=("帮扶人",)),
        F("risk_identified_date", "风险识别时间", "risk identified", "date", aliases=("识别监测时间",)),
        F("risk_eliminated", "风险是否消除", "risk eliminated", "bool"),
        F("risk_eliminated_date", "风险消除时间", "risk eliminated on", "date"),
    ),
    key=("household_id",),
    doc="One row per household; a full extract each period replaces the previous one.",
)

MEMBER = Dataset(
    "member", "家庭成员信息", "household members", "registry",
    (
        F("person_id", "人编号", "person id", required=True, aliases=("人员编号",)),
        F("household_id", "户编号", "household id", required=True, aliases=("户码", "户号")),
        F("name", "姓名", "name", required=True),
        F("id_number", "证件号码", "ID number", "id_number", required=True, pii=True,
          aliases=("身份证号", "身份证号码", "公民身份号码", "身份证件号码")),
        F("sex", "性别", "sex", "enum", enum="sex"),
        F("birth_date", "出生日期", "birth date", "date", aliases=("出生年月",)),
        F("relation", "与户主关系", "relation to head", "enum", required=True, enum="relation"),
        F("ethnicity", "民族", "ethnicity", "enum", enum="ethnicity"),
        F("education", "文化程度", "education", "enum", enum="education"),
        F("school_status", "在校生状况", "school status", "enum", enum="school_status", aliases=("在校生情况",)),
        F("health", "健康状况", "health", "enum", enum="health", pii=True),
        F("disability_grade", "残疾等级", "disability grade", "enum", enum="disability_grade", pii=True),
        F("labour_capacity", "劳动技能", "labour capacity", "enum", enum="labour_capacity",
          aliases=("劳动能力",)),
        F("work_months", "务工时间（月）", "months worked", "int", min=0, max=12,
          aliases=("务工时间(月)", "务工时间")),
        F("medical_insurance", "是否参加城乡居民基本医疗保险", "resident medical insurance", "bool",
          aliases=("是否参加基本医疗保险", "参加基本医疗保险")),
        F("serious_illness_insurance", "是否参加大病保险", "serious-illness insurance", "bool"),
        F("employee_medical_insurance", "是否参加职工基本医疗保险", "employee medical insurance", "bool",
          aliases=("参加职工医保", "是否参加职工医保")),
        F("phone", "联系电话", "phone", pii=True),
    ),
    key=("person_id",),
)

INCOME = Dataset(
    "income", "家庭收入", "household income", "registry",
    (
        F("household_id", "户编号", "household id", required=True, aliases=("户码", "户号")),
        F("year", "年度", "year", "int", required=True, min=2014, max=2035, aliases=("收入年度",)),
        F("wage_income", "工资性收入", "wage income", "decimal", min=0),
        F("business_income", "生产经营性收入", "business income", "decimal", min=0),
        F("property_income", "财产性收入", "property income", "decimal", min=0),
        F("transfer_income", "转移性收入", "transfer income", "decimal", min=0),
        F("minimum_living_allowance", "其中：低保金", "of which minimum living allowance", "decimal", min=0,
          aliases=("低保金",)),
        F("extreme_poverty_allowance", "其中：特困供养金", "of which extreme-poverty support", "decimal", min=0,
          aliases=("特困供养金", "五保金")),
        F("pension", "其中：养老金", "of which pension", "decimal", min=0, aliases=("养老金",)),
        F("eco_compensation", "其中：生态补偿金", "of which ecological compensation", "decimal", min=0,
          aliases=("生态补偿金",)),
        F("business_costs", "生产经营性支出", "business costs", "decimal", min=0),
    ),
    key=("household_id", "year"),
    doc="纯收入 = wage + business + property + transfer - business_costs; per capita = 纯收入 / members.",
)

MEDICAL_CLAIM = Dataset(
    "medical_claim", "医保结算", "medical insurance claims", "feed",
    (
        F("record_id", "结算单号", "settlement id", required=True, aliases=("结算ID", "单据号")),
        *_person_fields(),
        F("claim_date", "结算日期", "settlement date", "date", required=True, aliases=("出院日期", "结算时间")),
        F("visit_type", "就诊类型", "visit type", "enum", required=True, enum="visit_type", aliases=("医疗类别",)),
        F("insurance_type", "参保类型", "insurance scheme", "enum", enum="insurance_type", aliases=("险种类型",)),
        F("diagnosis", "疾病诊断", "diagnosis", aliases=("诊断名称", "病种")),
        F("serious_illness", "是否重大疾病", "serious illness", "bool", aliases=("是否大病",)),
        F("hospital", "医疗机构", "hospital", aliases=("定点医药机构名称",)),
        F("total_cost", "医疗总费用", "total cost", "decimal", required=True, min=0, aliases=("总费用",)),
        F("reimbursed", "统筹报销金额", "reimbursed", "decimal", min=0, aliases=("报销金额", "基金支付")),
        F("out_of_pocket", "个人自付金额", "out of pocket", "decimal", required=True, min=0,
          aliases=("个人自付", "自付费用", "个人负担")),
    ),
    key=("record_id",), department="医保", date_field="claim_date", person_level=True,
)

ASSISTANCE = Dataset(
    "assistance", "社会救助", "social assistance", "feed",
    (
        F("record_id", "记录编号", "record id", required=True),
        *_person_fields(),
        F("assistance_type", "救助类型", "assistance type", "enum", required=True, enum="assistance_type"),
        F("change", "变动类型", "change", "enum", required=True, enum="assistance_change", aliases=("状态",)),
        F("amount", "救助金额", "amount (yuan)", "decimal", min=0, aliases=("月救助金额", "金额")),
        F("change_date", "变动日期", "date of change", "date", required=True, aliases=("审批日期",)),
    ),
    key=("record_id",), department="民政", date_field="change_date", person_level=True,
)

DISABILITY_CERT = Dataset(
    "disability_cert", "残疾人证", "disability certificates", "feed",
    (
        F("record_id", "记录编号", "record id", required=True),
        *_person_fields(),
        F("cert_number", "残疾证号", "certificate number", aliases=("残疾人证号",)),
        F("disability_type", "残疾类别", "disability type", "enum", enum="disability_type"),
        F("disability_grade", "残疾等级", "disability grade", "enum", required=True, enum="disability_grade"),
        F("cert_status", "证件状态", "certificate status", "enum", required=True, enum="cert_status",
          aliases=("办证类型",)),
        F("issue_date", "发证日期", "date issued", "date", required=True, aliases=("办证日期",)),
    ),
    key=("record_id",), department="残联", date_field="issue_date", person_level=True,
)

ENROLMENT = Dataset(
    "enrolment", "学籍信息", "school enrolment", "feed",
    (
        F("record_id", "记录编号", "record id", required=True),
        *_person_fields(),
        F("student_id", "学籍号", "student number"),
        F("school", "学校名称", "school"),
        F("stage", "学段", "stage", "enum", required=True, enum="school_stage"),
        F("grade", "年级", "grade"),
        F("status", "学籍状态", "status", "enum", required=True, enum="enrolment_status"),
        F("status_date", "变动日期", "date of status", "date", required=True, aliases=("统计日期",)),
        F("annual_cost", "本学年费用", "costs this school year", "decimal", min=0, aliases=("学杂费",)),
    ),
    key=("record_id",), department="教育", date_field="status_date", person_level=True,
)

EMPLOYMENT = Dataset(
    "employment", "就业与社保", "employment and social insurance", "feed",
    (
        F("record_id", "记录编号", "record id", required=True),
        *_person_fields(),
        F("period", "所属期", "month", "month", required=True, aliases=("所属月份", "年月")),
        F("status", "就业状态", "employment status", "enum", required=True, enum="employment_status"),
        F("employer", "就业单位", "employer", aliases=("单位名称",)),
        F("work_place", "务工地点", "place of work"),
        F("insured", "本月缴纳社保", "social insurance paid", "bool", aliases=("是否缴纳社保",)),
        F("monthly_income", "月收入", "monthly income", "decimal", min=0),
    ),
    key=("record_id",), department="人社", date_field="period", person_level=True,
)

HOUSING_SAFETY = Dataset(
    "housing_safety", "农房安全鉴定", "housing safety assessments", "feed",
    (
        F("record_id", "鉴定编号", "assessment id", required=True),
        *_person_fields(),
        F("grade", "鉴定等级", "safety grade", "enum", required=True, enum="house_grade",
          aliases=("危房等级", "房屋安全等级")),
        F("assess_date", "鉴定日期", "date assessed", "date", required=True),
    ),
    key=("record_id",), department="住建", date_field="assess_date", person_level=True,
    doc="The person is the owner of the house (usually the household head).",
)

WATER_SAFETY = Dataset(
    "water_safety", "农村饮水安全", "drinking-water safety", "feed",
    (
        F("record_id", "记录编号", "record id", required=True),
        F("village_code", "行政村代码", "village code", "region_code", required=True, aliases=("村代码",)),
        F("natural_village", "自然村", "natural village"),
        F("quantity_ok", "水量达标", "quantity sufficient", "bool", required=True),
        F("quality_ok", "水质达标", "quality meets GB 5749", "bool", required=True),
        F("access_ok", "取水便利", "access within 20 minutes", "bool", required=True),
        F("supply_days", "供水保证天数", "days of supply a year", "int", min=0, max=366),
        F("assess_date", "评估日期", "date assessed", "date", required=True),
    ),
    key=("record_id",), department="水利", date_field="assess_date",
)

CIVIL_REGISTRY = Dataset(
    "civil_registry", "户籍变动", "civil registry events", "feed",
    (
        F("record_id", "记录编号", "record id", required=True),
        *_person_fields(),
        F("event", "变动类型", "event", "enum", required=True, enum="civil_event", aliases=("事件类型",)),
        F("event_date", "变动日期", "date of event", "date", required=True),
        F("parent_id_number", "父（母）亲证件号码", "parent's ID number", "id_number", pii=True,
          aliases=("父亲或母亲身份证号", "监护人身份证号", "父(母)亲证件号码"),
          doc="births: the ID number of the parent in whose household the child is placed"),
    ),
    key=("record_id",), department="公安", date_field="event_date", person_level=True,
)

DISASTER_LOSS = Dataset(
    "disaster_loss", "灾害损失", "disaster losses", "feed",
    (
        F("record_id", "记录编号", "record id", required=True),
        F("village_code", "行政村代码", "village code", "region_code", required=True, aliases=("村代码",)),
        F("disaster_type", "灾害类型", "disaster type", "enum", required=True, enum="disaster_type"),
        F("severity", "灾情等级", "severity", "enum", enum="disaster_severity"),
        F("event_date", "发生日期", "date of event", "date", required=True),
        F("affected_households", "受灾户数", "households affected", "int", min=0),
        F("direct_loss", "直接经济损失（元）", "direct loss (yuan)", "decimal", min=0,
          aliases=("直接经济损失", "直接经济损失(元)")),
    ),
    key=("record_id",), department="应急", date_field="event_date",
)

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        REGION, HOUSEHOLD, MEMBER, INCOME, MEDICAL_CLAIM, ASSISTANCE, DISABILITY_CERT, ENROLMENT,
        EMPLOYMENT, HOUSING_SAFETY, WATER_SAFETY, CIVIL_REGISTRY, DISASTER_LOSS,
    )
}


def dataset(name: str) -> Dataset:
    """Look a dataset up by name (or its Chinese title)."""
    if name in DATASETS:
        return DATASETS[name]
    for d in DATASETS.values():
        if name in (d.zh, d.en):
            return d
    from jingzhun.errors import JingzhunError

    raise JingzhunError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")


def feeds() -> list[Dataset]:
    return [d for d in DATASETS.values() if d.kind == "feed"]


def registry_datasets() -> list[Dataset]:
    return [d for d in DATASETS.values() if d.kind == "registry"]
