"""Definitions for tests, apart from the built-in formats."""

from __future__ import annotations

# A small definition that is not the 2021 format: wide cells, a negative term, an amount check,
# a label too long for Excel's data validation prompt. Drawing and reading must be generic.
TINY_DEFINITION = """
[format]
id = "tiny-test"
version = "t1"
document = "测试文件〔2000〕1号"
name = "测试统计表"
font = "宋体"

[cover]
sheet = "说明"
title = "{year}年度{name}"
title_at = "A1:C1"
widths = [12, 30, 12]
fields = [
    { key = "unit_name", label = "单位", at = "A3", value_at = "B3:C3", input = false },
    { key = "note", label = "备注", at = "A4", value_at = "B4:C4", input = true },
]
instructions_at = "A6:C8"
instructions = ["说明", "第一行"]

[[tables]]
key = "a"
sheet = "甲表"
title = "甲表标题"
title_at = "A1:D1"
widths = [40, 10, 10, 10]
freeze_rows = 2
landscape = false
labels = [["A2", "项目"]]
header_rows = [2]

[[tables.grids]]
key = "g"
kind = "count"
columns = [
    { key = "x", label = "X", at = "B2" },
    { key = "y", label = "Y", at = "C2" },
    { key = "sum", label = "合计", at = "D2" },
]
rows = [
    { key = "p", label = "LONG", at = "A3" },
    { key = "q", label = "Q", at = "A4" },
    { key = "r", label = "R", at = "A5" },
]

[[tables.grids]]
key = "m"
kind = "amount"
unit = "元"
columns = [{ key = "v", label = "金额", at = "B7:D7" }]
rows = [
    { key = "a", label = "甲", at = "A8" },
    { key = "b", label = "乙", at = "A9" },
    { key = "c", label = "差额", at = "A10" },
]

[[rules]]
code = "X-SUM"
kind = "sum"
severity = "error"
title = "合计"
description = "合计 = X + Y"
grids = ["g"]
per = "row"
target = "sum"
parts = ["x", "y"]

[[rules]]
code = "X-EQ"
kind = "equation"
severity = "error"
title = "R = P - Q"
description = "每列 R = P - Q"
grids = ["g"]
per = "column"
lhs = ["r"]
rhs = ["p", "-q"]
check_row = 6
check_label = ["A6", "校验：R = P − Q"]

[[rules]]
code = "X-AMT"
kind = "equation"
severity = "error"
title = "差额 = 甲 − 乙"
description = "差额 = 甲 − 乙"
grids = ["m"]
per = "column"
lhs = ["c"]
rhs = ["a", "-b"]
check_row = 11
check_label = ["A11", "金额校验"]
""".replace('"LONG"', '"' + "很长的行标签" * 50 + '"')
