"""Why a file, sheet, row or cell was not loaded as written: an English code and a Chinese sentence.

The sentence is what an official reads in the audit tables and the reports, so it says what to
do; the code is what queries, tests and checks filter on. ``audit.quarantine.reason`` holds
``<sentence> [<code>]``.
"""

from __future__ import annotations

# Cell level: the cell is NULL in raw (or kept, for notes), the row is loaded.
CELL_REASONS = {
    "unparseable_date": "日期无法识别：请按 2015-06-03 格式填写",
    "date_out_of_range": "日期超出合理范围（1900—2099 年）：请核对年份",
    "unparseable_month": "月份无法识别：请按 2015-09 格式填写",
    "not_a_number": "不是数字：请只填写数字（可带“人”“元”等单位）",
    "negative_number": "数值为负数：人数和金额不能为负，请核对",
    "not_a_whole_number": "人数、天数应为整数：请核对小数",
    "formula_error": "公式出错（如 #REF!、#DIV/0!）：请修正公式或直接填写数值",
    "id_number_typed_as_number": (
        "身份证号码存成了数字，Excel 已把后几位四舍五入、无法恢复（该行仍已导入）："
        "请把该列设为“文本”格式后重新录入原号码"
    ),
    "id_number_rounded": (
        "身份证号码已被 Excel 改成科学计数法（如 6.2E+17）、无法恢复（该行仍已导入）：请重新录入原号码"
    ),
    "code_rounded_by_excel": (
        "编号存成了数字，超过 15 位的部分已被 Excel 四舍五入（该行仍已导入）：请设为“文本”格式后重新录入"
    ),
    "duplicate_column_conflict": "重复列的值与前一列不一致，未导入此值：请删去多余的列或核对数据",
}

# Row level: the whole row is not in raw (column_name is NULL).
ROW_REASONS = {
    "row_without_key_fields": "整行缺少必填项（{required}）：无法确定归属，未导入，请补全后重新报送",
}

# Sheet level: about a header or a whole sheet (row_number is the header row when known).
SHEET_REASONS = {
    "missing_required_column": "工作表缺少必填列“{header}”：整张表未导入，请补上该列后重新报送",
    "no_header_row": "前 {scan} 行中找不到“{title}”的表头：整张表未导入，请核对表头或是否放错文件夹",
    "wrong_folder": "这张表看起来是“{other}”，不是“{title}”：整张表未导入，请放到 raw/{folder}/ 文件夹",
    "unknown_column": "无法识别的列“{header}”：该列未导入，如需导入请联系管理员登记此表头",
    "unnamed_column_with_data": "第 {letter} 列没有表头却有 {count} 个数据：该列未导入，请补上表头",
    "duplicate_column": "列“{header}”与“{first}”重复（同为 {name}）：只导入第一列",
    "header_only_sheet": "工作表只有表头、没有数据",
    "sheet_ignored": "工作表“{sheet}”不像数据表（{why}），已跳过",
    # raw_value holds the sheet's non-blank row count
    "hidden_sheet": "工作表“{sheet}”是隐藏的工作表（{rows} 行），未导入：如需导入请取消隐藏后重新报送",
}

# Sheet-level codes that mean data was refused: the ingest asset check fails on these.
REJECTING_CODES = frozenset({"missing_required_column", "no_header_row", "wrong_folder", "hidden_sheet"})

# File level (audit.ingest_files.error of a failed file).
FILE_REASONS = {
    "encrypted": "文件设有打开密码，无法读取：请取消密码后重新报送",
    "corrupt_zip": "文件已损坏或不完整（压缩结构损坏，可能未传完）：请重新导出后报送",
    "not_a_workbook": "文件内容不是 Excel/WPS/ODS 表格（{what}）：请另存为 .xlsx 后报送",
    "html_disguised": "文件实际是网页（HTML）格式，只是扩展名为 {ext}：请用 Excel 打开后另存为 .xlsx",
    "unsupported_extension": "不支持的文件类型“{ext}”：请提交 .xlsx、.xls、.ods 或 .csv 文件",
    "unknown_encoding": "文本文件编码无法识别（不是 UTF-8 或 GB18030）：请另存为 UTF-8 编码的 CSV",
    "unreadable": "文件无法读取（{detail}）：请用 Excel 打开检查后另存为 .xlsx 重新报送",
    "empty_workbook": "工作簿没有任何数据",
    "no_loadable_sheet": "没有一张工作表可以导入：{details}",
    "outside_raw_dir": "文件是指向数据目录以外的链接，出于安全原因未读取",
    "duplicate": "与 {original} 内容完全相同，只导入一次",
}


def cell_reason(code: str) -> str:
    return f"{CELL_REASONS[code]} [{code}]"


def reason(code: str, **values: object) -> str:
    """The sentence for any code, filled with ``values``, with the code in brackets."""
    for table in (CELL_REASONS, ROW_REASONS, SHEET_REASONS, FILE_REASONS):
        if code in table:
            return f"{table[code].format(**values)} [{code}]"
    raise KeyError(code)
