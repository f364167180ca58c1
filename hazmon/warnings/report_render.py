"""A warning report (report.py) as CSV for Excel and as a printable Chinese page.

CSV (`report_csv`): UTF-8 with a byte-order mark (Excel then reads the Chinese right),
CRLF line ends, one table per section one after another, each a title row, a header
row and its rows, then an empty row:

    通报, 概况 (指标/本期/上期/变化/变化率%), 按级别, 按原因, 处置情况, 企业排名, 逾期企业,
    then, where the service runs duties: 值班点名应答率, 在线巡查覆盖率, 安全承诺填报

A text cell that a spreadsheet would read as a formula (starting with = + - @, a tab or
a carriage return) is prefixed with an apostrophe.

HTML (`report_html`): one self-contained page (its CSS inline, no script, no external
resource), every text from the data escaped, laid out for A4 in print.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final

from hazmon.duties.report import CommitmentRow, DutyFigures, PatrolRow, RollCallRow
from hazmon.warnings.feedback import Cause
from hazmon.warnings.lifecycle import WarningState
from hazmon.warnings.report import (
    LEVELS,
    ZONE,
    Change,
    EnterpriseRow,
    Figures,
    WarningReport,
)

BOM: Final = "\ufeff"
METRIC_LABELS: Final = {
    "total": "预警总数",
    "level.red": "红色预警",
    "level.orange": "橙色预警",
    "level.yellow": "黄色预警",
    "level.blue": "蓝色预警",
    "overdue": "逾期预警",
    "returned": "被退回预警",
    "closed": "已消警",
    "feedback_on_time_pct": "按时反馈率（%）",
    "median_close_ms": "消警用时中位数（分钟）",
}
_LEVEL_SHORT: Final = {"red": "红", "orange": "橙", "yellow": "黄", "blue": "蓝"}
_LEVEL_COLOURS: Final = {"red": "#c62828", "orange": "#ef6c00", "yellow": "#f9a825",
                         "blue": "#1565c0"}
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def local_time(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, ZONE).strftime("%Y-%m-%d %H:%M")


def minutes(ms: float | None) -> str:
    return "—" if ms is None else f"{ms / 60_000:.1f}"


def number(value: float | None) -> str:
    if value is None:
        return "—"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _value(c: Change, v: float | None) -> str:
    return minutes(v) if c.metric == "median_close_ms" else number(v)


def _delta(c: Change) -> str:
    if c.delta is None:
        return "—"
    text = _value(c, abs(c.delta))
    return f"+{text}" if c.delta > 0 else (f"-{text}" if c.delta < 0 else "0")


def _change_pct(c: Change) -> str:
    if c.change_pct is None:
        return "—" if c.delta is None or c.delta == 0 else "新增"
    return f"{c.change_pct:+.1f}%"


def title(report: WarningReport) -> str:
    place = report.region_name or (f"地区 {report.region_prefix}" if report.region_prefix
                                   else "全部地区")
    return f"{place}安全风险预警处置{report.period.label}（{report.label}）"


def span_note(report: WarningReport) -> str:
    counted = f"{local_time(report.counted.start_ms)} 至 {local_time(report.counted.end_ms)}"
    previous = f"{local_time(report.previous.start_ms)} 至 {local_time(report.previous.end_ms)}"
    note = f"统计时段：{counted}；对比时段：{previous}；统计截至 {local_time(report.as_of_ms)}"
    if not report.complete:
        note += "（本期尚未结束，与上期同一时段对比）"
    return note


# --- the sections, as rows: shared by the CSV and the page ------------------------------------


def summary_rows(report: WarningReport) -> list[list[str]]:
    return [[METRIC_LABELS[c.metric], _value(c, c.current), _value(c, c.previous),
             _delta(c), _change_pct(c)] for c in report.trend]


def level_rows(f: Figures) -> list[list[str]]:
    return [[lv.label, str(f.by_level[lv])] for lv in LEVELS]


def cause_rows(f: Figures) -> list[list[str]]:
    rows = [[c.label, str(f.by_cause[c])] for c in Cause]
    rows.append(["尚未反馈", str(f.no_feedback)])
    return rows


def handling_rows(f: Figures) -> list[list[str]]:
    fb = f.feedback
    return [
        ["应反馈预警", str(fb.due)],
        ["按时反馈", str(fb.on_time)],
        ["逾期反馈或未反馈", str(fb.late)],
        ["反馈时限内待反馈", str(fb.pending)],
        ["按时反馈率（%）", number(fb.on_time_pct)],
        *([[f"状态：{st.label}", str(f.by_state[st])] for st in WarningState]),
        ["逾期预警", str(f.overdue)],
        ["逾期升级至上级", str(f.escalated)],
        ["被退回预警", str(f.returned)],
        ["退回次数", str(f.returns)],
        ["消警率（%）", number(f.close_rate_pct)],
        ["消警用时中位数（分钟）", minutes(f.median_close_ms)],
    ]


ENTERPRISE_HEADER: Final = ["排名", "企业", "统一社会信用代码", "预警数",
                            *(f"{_LEVEL_SHORT[lv.value]}色" for lv in LEVELS), "逾期", "未消警"]


def enterprise_rows(rows: Sequence[EnterpriseRow]) -> list[list[str]]:
    return [[str(i), r.name, r.enterprise, str(r.total),
             *(str(r.by_level[lv]) for lv in LEVELS), str(r.overdue), str(r.open)]
            for i, r in enumerate(rows, 1)]


ROLL_CALL_HEADER: Final = ["企业", "统一社会信用代码", "点名次数", "按时应答", "超时应答",
                            "未应答", "待应答", "应答率（%）"]
PATROL_HEADER: Final = ["县区", "地区代码", "抽查天数", "抽中企业（家次）", "当日已巡查",
                        "覆盖率（%）", "巡查记录"]
COMMITMENT_HEADER: Final = ["企业", "统一社会信用代码", "应报天数", "按时填报", "逾期填报",
                            "未填报", "按时率（%）"]


def roll_call_rows(rows: Sequence[RollCallRow], total: RollCallRow) -> list[list[str]]:
    return [[r.name, r.enterprise or "—", str(r.calls), str(r.answered), str(r.answered_late),
             str(r.missed), str(r.waiting), number(r.answer_rate_pct)]
            for r in (*rows, total)]


def patrol_rows(rows: Sequence[PatrolRow], total: PatrolRow) -> list[list[str]]:
    return [[r.name, r.county or "—", str(r.days), str(r.sampled), str(r.patrolled),
             number(r.coverage_pct), str(r.records)] for r in (*rows, total)]


def commitment_rows(rows: Sequence[CommitmentRow], total: CommitmentRow) -> list[list[str]]:
    return [[r.name if r.enterprise else "合计（范围内全部企业）", r.enterprise or "—",
             str(r.days), str(r.on_time), str(r.late), str(r.missing), number(r.on_time_pct)]
            for r in (*rows, total)]


def duty_sections(d: DutyFigures) -> list[tuple[str, list[str], list[list[str]]]]:
    return [
        ("值班点名应答率（按企业）", ROLL_CALL_HEADER,
         roll_call_rows(d.roll_calls, d.roll_call_total)),
        ("在线巡查覆盖率（按县区）", PATROL_HEADER, patrol_rows(d.patrols, d.patrol_total)),
        ("安全承诺填报（有逾期或未填报的企业）", COMMITMENT_HEADER,
         commitment_rows(d.commitments, d.commitment_total)),
    ]


def sections(report: WarningReport) -> list[tuple[str, list[str], list[list[str]]]]:
    f = report.figures
    duties = [] if report.duties is None else duty_sections(report.duties)
    return [
        ("概况", ["指标", "本期", "上期", "变化", "变化率"], summary_rows(report)),
        ("按级别", ["级别", "预警数"], level_rows(f)),
        ("按原因（企业处置反馈）", ["原因", "预警数"], cause_rows(f)),
        ("处置情况", ["项目", "数值"], handling_rows(f)),
        (f"预警最多的企业（前 {len(report.top_enterprises)} 家）", ENTERPRISE_HEADER,
         enterprise_rows(report.top_enterprises)),
        ("有逾期预警的企业", ENTERPRISE_HEADER, enterprise_rows(report.overdue_enterprises)),
        *duties,
    ]


# --- CSV ---------------------------------------------------------------------------------------


def _cell(value: str) -> str:
    if value.startswith(_FORMULA_START) and not _is_number(value):
        return "'" + value
    return value


def _is_number(value: str) -> bool:
    try:
        float(value.rstrip("%"))
    except ValueError:
        return False
    return True


def report_csv(report: WarningReport) -> bytes:
    """The report as CSV bytes (layout in the module docstring)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")

    def table(name: str, header: list[str], rows: Iterable[list[str]]) -> None:
        w.writerow([name])
        w.writerow(header)
        for row in rows:
            w.writerow([_cell(c) for c in row])
        w.writerow([])

    table("通报", ["项目", "内容"], [
        ["标题", title(report)],
        ["地区代码", report.region_prefix or "全部"],
        ["周期", f"{report.period.label} {report.label}"],
        ["统计时段", f"{local_time(report.counted.start_ms)} 至 "
                     f"{local_time(report.counted.end_ms)}"],
        ["对比时段", f"{local_time(report.previous.start_ms)} 至 "
                     f"{local_time(report.previous.end_ms)}"],
        ["统计截至", local_time(report.as_of_ms)],
        ["本期已结束", "是" if report.complete else "否"],
        ["含演练数据", "是" if report.include_simulated else "否"],
    ])
    for name, header, rows in sections(report):
        table(name, header, rows)
    return (BOM + out.getvalue()).encode("utf-8")


# --- HTML ----------------------------------------------------------------------------------------

_CSS: Final = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimSun",
       sans-serif; color: #222; margin: 24px; font-size: 14px; }
h1 { font-size: 20px; text-align: center; margin: 0 0 6px; }
p.note { text-align: center; color: #555; font-size: 12px; margin: 0 0 18px; }
h2 { font-size: 15px; border-left: 4px solid #1565c0; padding-left: 8px; margin: 18px 0 6px; }
table { border-collapse: collapse; width: 100%; margin-bottom: 6px; }
th, td { border: 1px solid #999; padding: 4px 6px; text-align: center; }
th { background: #eef2f7; }
td.name { text-align: left; }
.level { display: inline-block; width: 10px; height: 10px; margin-right: 4px;
         vertical-align: middle; }
section { page-break-inside: avoid; break-inside: avoid; }
footer { margin-top: 24px; font-size: 11px; color: #777; text-align: right; }
@page { size: A4; margin: 15mm; }
@media print {
  body { margin: 0; font-size: 12px; }
  th { background: #eef2f7 !important; -webkit-print-color-adjust: exact;
       print-color-adjust: exact; }
  .level { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], name_cols: set[int]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    if not rows:
        return (f"<table><thead><tr>{head}</tr></thead><tbody><tr>"
                f"<td colspan=\"{len(header)}\">无</td></tr></tbody></table>")
    body = "".join(
        "<tr>" + "".join(
            f"<td class=\"name\">{_e(c)}</td>" if i in name_cols else f"<td>{_e(c)}</td>"
            for i, c in enumerate(row)) + "</tr>"
        for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _levels_table(f: Figures) -> str:
    rows = "".join(
        f"<tr><td class=\"name\"><span class=\"level\" style=\"background:"
        f"{_LEVEL_COLOURS[lv.value]}\"></span>{_e(lv.label)}</td>"
        f"<td>{f.by_level[lv]}</td></tr>" for lv in LEVELS)
    return ("<table><thead><tr><th>级别</th><th>预警数</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def report_html(report: WarningReport) -> str:
    """The report as one printable HTML page in Chinese (see the module docstring)."""
    parts = [f"<h1>{_e(title(report))}</h1>", f"<p class=\"note\">{_e(span_note(report))}</p>"]
    for name, header, rows in sections(report):
        if name == "按级别":
            table = _levels_table(report.figures)
        else:
            wide = header is ENTERPRISE_HEADER
            table = _table(header, rows, {1} if wide else {0})
        parts.append(f"<section><h2>{_e(name)}</h2>{table}</section>")
    simulated = "含演练数据" if report.include_simulated else "不含演练数据"
    parts.append(f"<footer>{_e(simulated)} · hazmon 生成于 {_e(local_time(report.as_of_ms))}"
                 "</footer>")
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title(report))}</title><style>{_CSS}</style></head>"
            f"<body>{''.join(parts)}</body></html>\n")
