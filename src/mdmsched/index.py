"""The replication's front page: which file holds each paper figure and claim, and what each stage cost.

:func:`build_index` writes ``reports/index.md`` and ``reports/index.html`` from

- the workflow's report specs (report -> category, experiments, figures; ``REPORTS`` in
  ``workflow/rules/common.smk``),
- the claims tables the workflow writes per report (``results/claims/<report>.csv``, by
  :func:`mdmsched.claims.write_claims`: claim, paper reference, statement, measured, tolerance,
  PASS | FAIL | INFO); executed notebooks are linked, never read,
- the Snakemake benchmark files (``results/benchmarks/<stage>/<job>.tsv``: wall time, CPU time, peak
  memory of every job), summarised per stage.

Links are relative to the index, so the folders can be moved or published together.
"""

from __future__ import annotations

import csv
import html
import math
import os
import re
from pathlib import Path

from .claims import FAIL, INFO, PASS, read_claims
from .io import atomic_path

__all__ = ["figure_label", "read_benchmarks", "stage_summary", "build_index"]

_PAPERS = {"ccl": "CCL", "lz": "LZ"}


def figure_label(name: str) -> str:
    """A readable label from a figure's file name: ``ccl_fig1_step_approximation`` ->
    ``CCL Figure 1: step approximation``; ``lz_sqrt_rule`` -> ``LZ: sqrt rule``."""
    match = re.fullmatch(r"(?P<paper>[a-z]+)_fig(?:ure)?(?P<number>\d+[a-z]?)(?:_(?P<rest>.+))?", name)
    if match:
        paper = _PAPERS.get(match["paper"], match["paper"].upper())
        rest = (match["rest"] or "").replace("_", " ")
        return f"{paper} Figure {match['number']}" + (f": {rest}" if rest else "")
    paper, _, rest = name.partition("_")
    if paper in _PAPERS and rest:
        return f"{_PAPERS[paper]}: {rest.replace('_', ' ')}"
    return name.replace("_", " ")


def _number(value: str):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan  # Snakemake writes "-" or "NA" when a job was too short to measure
    return number


def read_benchmarks(benchmarks_dir, exclude_stages=("index",)) -> list[dict]:
    """One row per Snakemake benchmark file under ``benchmarks_dir`` (``<stage>/<job>.tsv``, any
    depth): stage, job, wall seconds, CPU seconds, peak RSS in MB (the mean over repeats when a file
    has several). Stages in ``exclude_stages`` are left out (the index's own, still being written)."""
    rows = []
    root = Path(benchmarks_dir)
    for path in sorted(root.rglob("*.tsv")):
        relative = path.relative_to(root)
        stage = relative.parts[0] if len(relative.parts) > 1 else "other"
        if stage in exclude_stages:
            continue
        with open(path, newline="", encoding="utf-8") as handle:
            records = list(csv.DictReader(handle, delimiter="\t"))
        if not records:
            continue

        def mean(column):
            values = [_number(record.get(column)) for record in records]
            values = [value for value in values if not math.isnan(value)]
            return sum(values) / len(values) if values else math.nan

        rows.append(
            {
                "stage": stage,
                "job": relative.with_suffix("").as_posix()[len(stage) + 1 :] if stage != "other" else path.stem,
                "seconds": mean("s"),
                "cpu_seconds": mean("cpu_time"),
                "max_rss_mb": mean("max_rss"),
                "path": path,
            }
        )
    return rows


def stage_summary(rows: list[dict]) -> list[dict]:
    """Per stage: number of jobs, total and largest wall time (s), total CPU time (s), the slowest
    job and the peak memory (MB), in order of total wall time, largest first."""
    stages: dict[str, list[dict]] = {}
    for row in rows:
        stages.setdefault(row["stage"], []).append(row)
    summary = []
    for stage, jobs in stages.items():

        def total(column):
            return sum(job[column] for job in jobs if not math.isnan(job[column]))

        slowest = max(jobs, key=lambda job: -1.0 if math.isnan(job["seconds"]) else job["seconds"])
        summary.append(
            {
                "stage": stage,
                "jobs": len(jobs),
                "seconds": total("seconds"),
                "cpu_seconds": total("cpu_seconds"),
                "max_seconds": slowest["seconds"],
                "slowest": slowest["job"],
                "max_rss_mb": max((job["max_rss_mb"] for job in jobs if not math.isnan(job["max_rss_mb"])), default=math.nan),
            }
        )
    return sorted(summary, key=lambda stage: -stage["seconds"])


def _fmt(value, digits=1) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _link(path, start) -> str:
    return Path(os.path.relpath(Path(path).resolve(), Path(start).resolve())).as_posix()


def _read_claims(path) -> list[dict]:
    """The rows of a report's claims CSV, FAILs first (then PASS, then INFO), [] if not written yet."""
    if not path or not Path(path).exists():
        return []
    rows = read_claims(path).to_dict("records")
    order = {FAIL: 0, PASS: 1, INFO: 2}
    return sorted(rows, key=lambda row: order.get(row["status"], 3))


def _tally(claims) -> dict:
    return {status: sum(row["status"] == status for row in claims) for status in (PASS, FAIL, INFO)}


def _collect(reports: dict, start) -> list[dict]:
    sections = []
    for name, spec in reports.items():
        notebook = Path(spec["notebook"])
        claims = _read_claims(spec.get("claims"))
        titles = spec.get("titles") or {}
        figures = []
        for figure, files in spec.get("figures", {}).items():
            by_type = {Path(file).suffix.lstrip("."): _link(file, start) for file in files}
            figures.append({"name": figure, "label": titles.get(figure) or figure_label(figure), "files": by_type})
        tables = [{"name": table, "csv": _link(path, start)} for table, path in spec.get("tables", {}).items()]
        sections.append(
            {
                "name": name,
                "category": spec.get("category", name),
                "html": _link(spec["html"], start),
                "notebook": _link(notebook, start),
                "figures": figures,
                "tables": tables,
                "claims": claims,
                "claims_csv": _link(spec["claims"], start) if spec.get("claims") else None,
                **{key.lower(): value for key, value in _tally(claims).items()},
            }
        )
    return sections


def _headline(sections) -> str:
    """PASS / FAIL / INFO counts per report, reports with a FAIL first."""
    ordered = sorted(sections, key=lambda section: -section["fail"])
    return "; ".join(f"{s['name']}: {s['pass']} PASS, {s['fail']} FAIL, {s['info']} INFO" for s in ordered)


def _markdown(title, sections, stages, jobs) -> str:
    def cell(text) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = [f"# {title}", "", f"**{_headline(sections)}** across {len(sections)} reports (INFO rows state no claim).", ""]
    lines += ["| report | paper | PASS | FAIL | INFO | figures | tables |", "|---|---|---|---|---|---|---|"]
    for section in sections:
        lines.append(
            f"| [{section['name']}]({section['html']}) | {cell(section['category'])} | "
            f"{section['pass']} | {section['fail']} | {section['info']} | {len(section['figures'])} | {len(section['tables'])} |"
        )
    failures = [(section, c) for section in sections for c in section["claims"] if c["status"] == FAIL]
    if failures:
        lines += ["", "**Failing claims**", ""]
        lines += [f"- {cell(s['name'])}: {cell(c['claim'])} ({cell(c['paper_reference'])}): {cell(c['measured'])}; tolerance {cell(c['tolerance'])}"
                  for s, c in failures]
    for section in sections:
        lines += ["", f"## {cell(section['category'])}: [{section['name']}]({section['html']})", ""]
        lines += [f"Executed notebook: [{section['notebook']}]({section['notebook']})", ""]
        if section["figures"]:
            lines += ["| figure | files |", "|---|---|"]
            lines += [
                f"| {cell(f['label'])} | " + ", ".join(f"[{f['name']}.{kind}]({link})" for kind, link in f["files"].items()) + " |"
                for f in section["figures"]
            ]
            lines.append("")
        if section["claims"]:
            lines += [f"Claims: [{section['claims_csv']}]({section['claims_csv']})", ""]
            lines += ["| claim | paper | statement | measured | tolerance | result |", "|---|---|---|---|---|---|"]
            lines += [
                f"| {cell(c['claim'])} | {cell(c['paper_reference'])} | {cell(c['statement'])} | {cell(c['measured'])} | {cell(c['tolerance'])} | **{c['status']}** |"
                for c in section["claims"]
            ]
            lines.append("")
        if section["tables"]:
            lines.append("Tables: " + ", ".join(f"[{t['name']}.csv]({t['csv']})" for t in section["tables"]))
    lines += ["", "## Runtime per stage (Snakemake benchmarks)", ""]
    if stages:
        lines += ["| stage | jobs | wall s | CPU s | slowest job | its wall s | peak RSS MB |", "|---|---|---|---|---|---|---|"]
        lines += [
            f"| {s['stage']} | {s['jobs']} | {_fmt(s['seconds'])} | {_fmt(s['cpu_seconds'])} | {cell(s['slowest'])} | "
            f"{_fmt(s['max_seconds'])} | {_fmt(s['max_rss_mb'], 0)} |"
            for s in stages
        ]
        total = sum(s["seconds"] for s in stages)
        lines += ["", f"{len(jobs)} jobs, {_fmt(total)} s of wall time in all (summed over jobs, not elapsed)."]
    else:
        lines.append("No benchmark files found.")
    return "\n".join(lines) + "\n"


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 0.8rem 0; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.PASS { color: #176b1d; font-weight: bold; } .FAIL { color: #b00020; font-weight: bold; } .INFO { color: #555; font-weight: bold; }
img { max-width: 16rem; border: 1px solid #ddd; }
"""


def _html(title, sections, stages, jobs) -> str:
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p><strong>{e(_headline(sections))}</strong> across {len(sections)} reports (INFO rows state no claim).</p>",
        "<table><tr><th>report</th><th>paper</th><th>PASS</th><th>FAIL</th><th>INFO</th><th>figures</th><th>tables</th></tr>",
    ]
    for s in sections:
        out.append(
            f'<tr><td><a href="{e(s["html"])}">{e(s["name"])}</a></td><td>{e(s["category"])}</td>'
            f'<td class="PASS">{s["pass"]}</td><td class="FAIL">{s["fail"]}</td><td class="INFO">{s["info"]}</td>'
            f'<td>{len(s["figures"])}</td><td>{len(s["tables"])}</td></tr>'
        )
    out.append("</table>")
    failures = [(s, c) for s in sections for c in s["claims"] if c["status"] == FAIL]
    if failures:
        out.append("<p><strong>Failing claims</strong></p><ul>")
        out += [f'<li class="FAIL">{e(s["name"])}: {e(c["claim"])} ({e(c["paper_reference"])}): {e(c["measured"])}; tolerance {e(c["tolerance"])}</li>'
                for s, c in failures]
        out.append("</ul>")
    for s in sections:
        out.append(f'<h2>{e(s["category"])}: <a href="{e(s["html"])}">{e(s["name"])}</a></h2>')
        out.append(f'<p>Executed notebook: <a href="{e(s["notebook"])}">{e(s["notebook"])}</a></p>')
        if s["figures"]:
            out.append("<table><tr><th>figure</th><th>files</th><th>preview</th></tr>")
            for f in s["figures"]:
                files = "<br>".join(f'<a href="{e(link)}">{e(f["name"])}.{e(kind)}</a>' for kind, link in f["files"].items())
                image = f["files"].get("png") or f["files"].get("svg") or f["files"].get("jpg")
                preview = f'<a href="{e(image)}"><img src="{e(image)}" alt="{e(f["label"])}"></a>' if image else ""
                out.append(f'<tr><td>{e(f["label"])}</td><td>{files}</td><td>{preview}</td></tr>')
            out.append("</table>")
        if s["claims"]:
            out.append(f'<p>Claims: <a href="{e(s["claims_csv"])}">{e(s["claims_csv"])}</a></p>')
            out.append("<table><tr><th>claim</th><th>paper</th><th>statement</th><th>measured</th><th>tolerance</th><th>result</th></tr>")
            for c in s["claims"]:
                result = c["status"]
                out.append(
                    f'<tr><td>{e(c["claim"])}</td><td>{e(c["paper_reference"])}</td><td>{e(c["statement"])}</td>'
                    f'<td>{e(c["measured"])}</td><td>{e(c["tolerance"])}</td><td class="{e(result)}">{e(result)}</td></tr>'
                )
            out.append("</table>")
        if s["tables"]:
            links = ", ".join(f'<a href="{e(t["csv"])}">{e(t["name"])}.csv</a>' for t in s["tables"])
            out.append(f"<p>Tables: {links}</p>")
    out.append("<h2>Runtime per stage (Snakemake benchmarks)</h2>")
    if stages:
        out.append(
            "<table><tr><th>stage</th><th>jobs</th><th>wall s</th><th>CPU s</th><th>slowest job</th>"
            "<th>its wall s</th><th>peak RSS MB</th></tr>"
        )
        for st in stages:
            out.append(
                f'<tr><td>{e(st["stage"])}</td><td>{st["jobs"]}</td><td>{_fmt(st["seconds"])}</td>'
                f'<td>{_fmt(st["cpu_seconds"])}</td><td>{e(st["slowest"])}</td><td>{_fmt(st["max_seconds"])}</td>'
                f'<td>{_fmt(st["max_rss_mb"], 0)}</td></tr>'
            )
        out.append("</table>")
        total = sum(st["seconds"] for st in stages)
        out.append(f"<p>{len(jobs)} jobs, {_fmt(total)} s of wall time in all (summed over jobs, not elapsed).</p>")
    else:
        out.append("<p>No benchmark files found.</p>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def build_index(reports: dict, benchmarks_dir, out_md, out_html, title: str = "mdmsched: replication index") -> dict:
    """Write the index as Markdown and HTML (atomically); returns the counts it shows (reports,
    figures, claims, PASS, FAIL, INFO, benchmarked jobs, stages). ``reports`` maps a report name to
    ``notebook`` and ``html`` (its executed notebook and HTML, linked), ``claims`` (its claims CSV,
    read), ``figures`` (figure name -> its files),
    ``tables`` (experiment name -> its CSV), ``category`` (the paper) and optionally ``titles`` (figure
    name -> label; default :func:`figure_label`). Claims are listed FAILs first."""
    start = Path(out_md).parent
    if Path(out_html).parent.resolve() != start.resolve():
        raise ValueError(f"index files must share a folder (links are relative): {out_md}, {out_html}")
    sections = _collect(reports, start)
    jobs = read_benchmarks(benchmarks_dir)
    stages = stage_summary(jobs)
    with atomic_path(out_md) as path:
        path.write_text(_markdown(title, sections, stages, jobs), encoding="utf-8")
    with atomic_path(out_html) as path:
        path.write_text(_html(title, sections, stages, jobs), encoding="utf-8")
    return {
        "reports": len(sections),
        "figures": sum(len(s["figures"]) for s in sections),
        "claims": sum(len(s["claims"]) for s in sections),
        "pass": sum(s["pass"] for s in sections),
        "fail": sum(s["fail"] for s in sections),
        "info": sum(s["info"] for s in sections),
        "jobs": len(jobs),
        "stages": len(stages),
    }
