"""The sixteen checks of dq.findings, in report order: name, Chinese title, severity, what they point at.

The same names and titles are in dbt_project/models/dq/findings.sql (tests compare the two).
``about_a_row``: the finding points at one person's sheet row (household sheet or ledger), so a
city's own report may show the person's name and masked ID beside it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    name: str
    title_zh: str
    severity: str  # error | warning
    about_a_row: bool


CHECKS: tuple[Check, ...] = (
    Check("target_persons_mismatch", "培训对象人数不一致", "error", False),
    Check("report_overclaims_ledger", "进度报表多报（高于台账）", "error", False),
    Check("report_underclaims_ledger", "进度报表少报（低于台账）", "error", False),
    Check("task_inflated", "任务数超出下达任务", "error", False),
    Check("unclassified_training_need", "培训需求未归入培训项目", "error", True),
    Check("course_too_short", "培训时长不足", "error", True),
    Check("course_too_long", "培训时长超过 1.5 倍标准", "error", True),
    Check("duplicate_training", "同一人同年重复培训", "error", True),
    Check("invalid_id_number", "身份证号码无效", "error", True),
    Check("rounded_id_number", "身份证号码被 Excel 四舍五入", "error", True),
    Check("id_region_mismatch", "身份证地区码与县区不符", "warning", True),
    Check("trainee_not_registered", "学员不在户级采集表", "error", True),
    Check("institution_not_on_roster", "培训机构不在名册", "error", True),
    Check("trade_not_approved", "培训工种未经核准", "error", True),
    Check("institution_qualification_expired", "培训机构资质过期", "error", True),
    Check("village_count_mismatch", "村级采集表与户级采集表不符", "error", False),
    Check("superseded_submission", "重复报送（已被取代）", "warning", False),
    Check("no_task_allocated", "未下达培训任务", "error", False),
    Check("unknown_programme", "培训项目无法识别", "error", True),
    Check("missing_start_date", "开班日期缺失或超出统计期", "error", True),
    Check("unknown_region", "县区无法识别", "error", True),
    Check("file_not_loaded", "文件或工作表未能导入", "error", False),
    Check("row_not_loaded", "数据行未能导入", "error", False),
)

CHECK_BY_NAME = {check.name: check for check in CHECKS}
SEVERITY_ZH = {"error": "错误", "warning": "提示"}
