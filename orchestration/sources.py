"""The seven raw sources: folders, columns, Chinese headers and their variants.

This module is the contract between the field's sheets, the generator that imitates them,
the ingest reader that parses them and the dbt staging models that type them. Everything
that names a raw column comes from here.

Each column has an English name (the column in ``raw.<table>``), the canonical Chinese
header (first in docs/sources.md) and the variants real offices write. Programme columns of the
wide sheets (war maps, progress reports, task allocations) are named ``<prefix>_<code>``
with the programme code in lower case, e.g. ``plan_employ``; their headers are the
programme's Chinese name or any of its variants (``dbt_project/seeds/programme_name_variants.csv``),
and in progress reports a two-row group header ``<programme>/任务数`` and ``<programme>/已完成``.

All raw columns are VARCHAR: the reader normalises text (full-width to half-width, trimmed,
dates to ISO ``YYYY-MM-DD``, months to ``YYYY-MM``, counts to plain digits) and dbt staging
casts. Every raw table also carries the lineage columns in ``LINEAGE_COLUMNS``.

ID numbers are kept as text and never repaired. A cell that a sheet holds as a number
(Excel rounds it to 15 significant digits) is written as ``f"{value:.15G}"``, e.g.
``6.2010219850101E+17``, so staging recognises a rounded ID by its ``E+``; a 15-digit old ID
typed as a number stays its 15 digits. The reader also notes such cells in
``audit.quarantine`` (reason code ``id_number_typed_as_number``) while still loading the row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Order matters: this is the order of the seven programmes in docs/domain.md.
PROGRAMME_CODES = ("EMPLOY", "TWO_AFTER", "BRAND", "FARMER", "LEADER", "UPSKILL", "STARTUP")

# Canonical Chinese names of the programmes, as in docs/domain.md (the seed holds the variants).
PROGRAMME_NAMES = {
    "EMPLOY": "就业技能培训",
    "TWO_AFTER": "“两后生”职业技能学历教育培训",
    "BRAND": "劳务品牌培训",
    "FARMER": "新型职业农民培训",
    "LEADER": "农村创业和技能带头人示范培训",
    "UPSKILL": "岗位技能提升培训",
    "STARTUP": "创业培训",
}

# Lineage columns present on every raw table, in this order, after the source's own columns.
LINEAGE_COLUMNS = (
    "source_file",  # path relative to the raw folder, forward slashes
    "sheet",  # sheet name ('' for csv)
    "row_number",  # 1-based spreadsheet row as Excel/LibreOffice shows it (INTEGER)
    "file_sha256",
    "ingested_at",  # TIMESTAMP WITH TIME ZONE
    "sheet_title",  # text of the title / 填报单位 rows above the header, joined by ' | ' ('' if none)
)


@dataclass(frozen=True)
class Column:
    name: str  # English column name in raw.<table>
    header: str  # canonical Chinese header
    variants: tuple[str, ...] = ()
    kind: str = "text"  # text | id_number | date | month | count | amount | yes_no
    required: bool = False  # a sheet lacking this header is rejected for this source


@dataclass(frozen=True)
class Source:
    name: str  # short name, also the Dagster asset name: raw/<name>
    folder: str  # folder under the raw directory
    table: str  # table in schema raw
    title_zh: str  # what offices call the document
    description: str
    columns: tuple[Column, ...]
    # wide programme columns: (prefix, header suffix in a two-row group or None, kind)
    programme_groups: tuple[tuple[str, str | None], ...] = field(default=())

    @property
    def all_columns(self) -> tuple[Column, ...]:
        """Own columns, the per-programme columns, then ``notes`` (备注), in raw-table order."""
        cols = list(self.columns)
        for prefix, suffix in self.programme_groups:
            for code in PROGRAMME_CODES:
                header = PROGRAMME_NAMES[code] + (f"/{suffix}" if suffix else "")
                cols.append(Column(f"{prefix}_{code.lower()}", header, kind="count"))
        cols.append(NOTES)
        return tuple(cols)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.all_columns)


def _c(name, header, *variants, kind="text", required=False):
    return Column(name, header, tuple(variants), kind, required)


# The 备注 (remarks) column offices put last in any sheet: loaded as free text into ``notes``,
# the last column of every raw table (added after the others, so old warehouses gain it by ALTER).
NOTES = _c("notes", "备注", "备 注", "说明")


CITY = _c("city", "市州", "市/州", "市（州）", "市(州)")
COUNTY = _c("county", "县区", "县市区", "县(市、区)", "县（市、区）", "县（区）", required=True)
TOWNSHIP = _c("township", "乡镇", "乡(镇)", "乡（镇）")
VILLAGE = _c("village", "行政村", "村")
ID_NUMBER = _c(
    "id_number", "身份证号码", "身份证号", "公民身份号码", "证件号码", kind="id_number", required=True
)

HOUSEHOLD_MEMBERS = Source(
    name="household_members",
    folder="household_sheets",
    table="household_members",
    title_zh="精准扶贫-劳动力培训户级采集表",
    description="Household collection sheet (户级采集表): one row per member of a registered poor household.",
    columns=(
        CITY,
        COUNTY,
        _c("township", "乡镇", "乡(镇)", "乡（镇）", required=True),
        _c("village", "行政村", "村", required=True),
        _c("household_number", "户编号", "户码", "建档立卡户编号", required=True),
        _c("head_name", "户主姓名"),
        _c("member_name", "姓名", "成员姓名", required=True),
        _c("relation_to_head", "与户主关系"),
        ID_NUMBER,
        _c("sex", "性别"),
        _c("ethnicity", "民族"),
        _c("education", "文化程度"),
        _c("labour_category", "劳动力类别"),
        _c("employment_status", "从业状况"),
        _c("skill_level", "技能水平"),
        _c("has_training_need", "是否有培训需求", kind="yes_no"),
        _c("training_need", "培训需求", "培训意愿"),
        _c("desired_trade", "意向工种"),
        _c("has_certificate", "是否持有职业资格证书", "持证情况", kind="yes_no"),
        _c("collected_on", "采集日期", kind="date"),
    ),
)

VILLAGE_STATISTICS = Source(
    name="village_statistics",
    folder="village_sheets",
    table="village_statistics",
    title_zh="精准扶贫-劳动力培训村级采集表",
    description="Village collection sheet (村级采集表): one row per village with its counts.",
    columns=(
        CITY,
        COUNTY,
        _c("township", "乡镇", "乡(镇)", "乡（镇）", required=True),
        _c("village", "行政村", "村", required=True),
        _c("total_households", "总户数", kind="count"),
        _c("total_population", "总人口", kind="count"),
        _c("poor_households", "贫困户数", kind="count"),
        _c("poor_population", "贫困人口数", "贫困人口", kind="count"),
        _c("labour_force", "劳动力人数", kind="count"),
        _c("persons_with_training_need", "有培训需求人数", kind="count"),
        _c("trained_this_year", "本年已培训人数", kind="count"),
        _c("certificate_holders", "持证人数", kind="count"),
        _c("is_old_revolutionary_area", "是否革命老区", kind="yes_no"),
        _c("is_ethnic_minority_village", "是否少数民族村", kind="yes_no"),
        _c("reported_on", "填报日期", kind="date"),
    ),
)

INSTITUTIONS = Source(
    name="institutions",
    folder="institution_rosters",
    table="institutions",
    title_zh="培训机构名册",
    description="Training-institution roster (培训机构名册): one row per institution.",
    columns=(
        _c("institution_code", "机构代码", "统一社会信用代码", required=True),
        _c("institution_name", "机构名称", required=True),
        _c("institution_type", "机构类型"),
        _c("county", "所在县区", "县区", "所在县(市、区)"),
        _c("approved_trades", "核准培训工种", "培训工种"),
        _c("annual_capacity", "年培训能力", kind="count"),
        _c("qualification_valid_until", "资质有效期至", kind="date"),
        _c("contact_person", "联系人"),
        _c("contact_phone", "联系电话"),
    ),
)

TRAINING_RECORDS = Source(
    name="training_records",
    folder="training_ledgers",
    table="training_records",
    title_zh="实名制培训台账",
    description="Real-name training ledger (实名制培训台账): one row per person per course.",
    columns=(
        COUNTY,
        TOWNSHIP,
        VILLAGE,
        _c("trainee_name", "姓名", "学员姓名", required=True),
        ID_NUMBER,
        _c("programme_name", "培训项目", "项目名称", required=True),
        _c("trade", "培训工种", "工种"),
        _c("institution", "培训机构", "培训机构名称"),
        _c("start_date", "开班日期", "开班时间", kind="date", required=True),
        _c("end_date", "结业日期", "结业时间", kind="date"),
        _c("duration_days", "培训天数", kind="count"),
        _c("duration_hours", "培训学时", kind="count"),
        _c("completed", "是否结业", kind="yes_no"),
        _c("certified", "是否取得证书", kind="yes_no"),
        _c("certificate_number", "证书编号"),
        _c("certificate_level", "鉴定等级"),
        _c("transferred_to_job", "是否转移就业", kind="yes_no"),
        _c("employer", "就业单位"),
        _c("subsidy_yuan", "补贴金额(元)", "补贴金额（元）", "补贴金额", kind="amount"),
        _c("fund_source", "资金来源"),
        _c("trainee_satisfaction", "培训满意度"),
        _c("employer_satisfaction", "用工满意度"),
    ),
)

WAR_MAP_TARGETS = Source(
    name="war_map_targets",
    folder="war_maps",
    table="war_map_targets",
    title_zh="乡镇作战图",
    description="Township war map (乡镇作战图): the township's plan, one row per village.",
    columns=(
        COUNTY,
        _c("township", "乡镇", "乡(镇)", "乡（镇）", required=True),
        _c("village", "行政村", "村", required=True),
        _c("poor_households", "贫困户数", kind="count"),
        _c("poor_population", "贫困人口数", "贫困人口", kind="count"),
        _c("labour_force", "劳动力人数", kind="count"),
        _c("target_persons", "培训对象人数", kind="count", required=True),
        _c("responsible_person", "责任人"),
        _c("deadline", "完成时限", kind="date"),
    ),
    programme_groups=(("plan", None),),
)

PROGRESS_REPORTS = Source(
    name="progress_reports",
    folder="progress_reports",
    table="progress_reports",
    title_zh="任务进度统计汇总表",
    description="Progress report (情况汇报 / 任务进度统计汇总表): one row per county or township per month, "
    "cumulative for the year.",
    columns=(
        CITY,
        COUNTY,
        TOWNSHIP,
        _c("report_month", "统计月份", "月份", "统计时间", kind="month", required=True),
        _c("target_persons", "培训对象人数", kind="count"),
        _c("certified_persons", "取得证书人数", kind="count"),
        _c("transferred_persons", "转移就业人数", kind="count"),
    ),
    programme_groups=(("task", "任务数"), ("done", "已完成")),
)

TASK_ALLOCATIONS = Source(
    name="task_allocations",
    folder="task_allocations",
    table="task_allocations",
    title_zh="年度培训任务分解表",
    description="Annual task allocation (年度培训任务分解表): one row per county per year.",
    columns=(
        _c("year", "年度", "年份", kind="count", required=True),
        CITY,
        COUNTY,
    ),
    programme_groups=(("task", None),),
)

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        HOUSEHOLD_MEMBERS,
        VILLAGE_STATISTICS,
        INSTITUTIONS,
        TRAINING_RECORDS,
        WAR_MAP_TARGETS,
        PROGRESS_REPORTS,
        TASK_ALLOCATIONS,
    )
}

SOURCE_BY_FOLDER: dict[str, Source] = {s.folder: s for s in SOURCES.values()}


def raw_table_ddl(source: Source, schema: str = "raw") -> str:
    """CREATE TABLE statement for a source's raw table (all text, plus lineage)."""
    cols = [f'"{c}" varchar' for c in source.column_names]
    cols += [
        '"source_file" varchar not null',
        '"sheet" varchar not null',
        '"row_number" integer not null',
        '"file_sha256" varchar not null',
        '"ingested_at" timestamp with time zone not null',
        '"sheet_title" varchar',
    ]
    return f'create table if not exists {schema}."{source.table}" (\n  ' + ",\n  ".join(cols) + "\n)"
