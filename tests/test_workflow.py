"""The replication workflow as users run it (issue 5).

The smoke config runs end to end and produces every table, figure, report and the index; a finished
workflow has nothing left to do; two runs give identical tables; a run killed mid-way resumes
without redoing finished work; a failing rule leaves no partial output; the config schema rejects bad
configs by name; `snakemake --lint` and `snakemake --report` work; every rule declares its log,
benchmark and resources; the conda environment lists the pip requirements.

Every run happens in a temporary copy of the workflow's sources (the library comes from the installed
package), so tests never clash with each other, with other runs, or with results in the checkout.
Each Snakemake call is bounded by a timeout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from mdmsched.claims.learned import KINDS as LEARNED_TABLES

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or shutil.which("snakemake")
TIMEOUT = 900  # seconds for one Snakemake run of the smoke config (it takes well under 3 minutes)
# generated or heavy paths never copied into a test workflow
SKIP = {".git", ".venv", ".snakemake", "results", "reports", "figures", "models", "logs", "tests", "benchmarks",
        ".pytest_cache", ".hypothesis", "__pycache__"}

pytestmark = pytest.mark.skipif(SNAKEMAKE is None, reason="snakemake is not installed")


def copy_workflow(destination: Path) -> Path:
    """Copy the workflow's sources (tracked and untracked-but-not-ignored files, minus generated
    folders) into ``destination``."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=REPO, capture_output=True, check=True, timeout=60,
        ).stdout.decode().split("\0")
        files = [Path(name) for name in listed if name]
    except (OSError, subprocess.SubprocessError):
        files = [path.relative_to(REPO) for path in REPO.rglob("*") if path.is_file()]
    for relative in files:
        if relative.parts[0] in SKIP or "__pycache__" in relative.parts or not (REPO / relative).is_file():
            continue
        (destination / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / relative, destination / relative)
    return destination


def snakemake(workdir: Path, *args, check: bool = True, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    """Run Snakemake in ``workdir`` (its workflow profile profiles/default applies); stdout and stderr
    together in ``.stdout``. Targets go first: `--configfile` takes every value that follows it."""
    result = subprocess.run(
        [SNAKEMAKE, "--cores", "2", *map(str, args)],
        cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
    )
    if check and result.returncode != 0:
        pytest.fail(f"snakemake {' '.join(map(str, args))} failed ({result.returncode}):\n{result.stdout[-6000:]}")
    return result


def job_blocks(output: str) -> list[dict]:
    """The jobs Snakemake printed (a run or a dry run): rule name, whether it ran as a local rule (all
    do in a local run), and the ``key: value`` lines of its block (output, log, benchmark, resources)."""
    blocks, current = [], None
    for line in output.splitlines():
        header = re.match(r"^(local)?rule (\w+):$", line)
        if header:
            current = {"rule": header[2], "local": bool(header[1])}
            blocks.append(current)
        elif current is not None and re.match(r"^\s{4}\w[\w ]*: ", line):
            key, _, value = line.strip().partition(": ")
            current[key] = value
        elif current is not None and not line.startswith(" "):
            current = None
    return blocks


def smoke_config(workdir: Path) -> dict:
    return yaml.safe_load((workdir / "config" / "smoke.yaml").read_text())


def tables(workdir: Path) -> dict[str, bytes]:
    folder = workdir / smoke_config(workdir)["results_dir"] / "tables"
    return {path.name: path.read_bytes() for path in sorted(folder.glob("*.csv"))}


def summary(workdir: Path, *args) -> list[dict]:
    """`snakemake --summary`: one row per output file of the DAG (output_file, rule, status, ...)."""
    out = snakemake(workdir, "--configfile", "config/smoke.yaml", "--summary", *args).stdout
    lines = [line for line in out.splitlines() if "\t" in line]
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]


@pytest.fixture(scope="module")
def workflow_copy(tmp_path_factory):
    """A workflow copy where nothing has run yet (for dry runs and lint: no need to wait for a run)."""
    return {"workdir": copy_workflow(tmp_path_factory.mktemp("copy"))}


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """A workflow copy with the whole smoke DAG run once (all of `rule all`)."""
    workdir = copy_workflow(tmp_path_factory.mktemp("smoke"))
    started = time.perf_counter()
    result = snakemake(workdir, "--configfile", "config/smoke.yaml")
    return {"workdir": workdir, "output": result.stdout, "seconds": time.perf_counter() - started}


@pytest.fixture(scope="module")
def resumed_run(tmp_path_factory):
    """A second copy: the first report's part of the DAG, killed (SIGKILL, as a crash or a lost
    node would) while its notebook runs, unlocked, resumed with --rerun-incomplete; then every table."""
    workdir = copy_workflow(tmp_path_factory.mktemp("resume"))
    targets = snakemake(workdir, "--configfile", "config/smoke.yaml", "--list-target-rules").stdout.split()
    renders = sorted(target for target in targets if target.startswith("render_"))
    assert renders, f"no render_* target rules: {targets}"
    target = renders[0]
    log = workdir / "interrupted.log"
    with open(log, "w") as stream:
        process = subprocess.Popen(
            [SNAKEMAKE, target, "--cores", "2", "--configfile", "config/smoke.yaml"],
            cwd=workdir, stdout=stream, stderr=subprocess.STDOUT, start_new_session=True,
        )
    deadline = time.monotonic() + TIMEOUT
    try:
        while f"rule {target}:" not in log.read_text() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # let the notebook start
        interrupted = process.poll() is None
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        interrupted = False
    process.wait(timeout=60)
    assert interrupted, f"the run ended before it could be interrupted:\n{log.read_text()[-3000:]}"
    finished = {name: (workdir / smoke_config(workdir)["results_dir"] / "tables" / name).stat().st_mtime_ns
                for name in tables(workdir)}
    # a killed Snakemake leaves its lock behind; a user removes it with --unlock, then resumes
    locked = snakemake(workdir, target, "--configfile", "config/smoke.yaml", check=False)
    assert locked.returncode != 0 and "--unlock" in locked.stdout, locked.stdout[-3000:]
    snakemake(workdir, "--configfile", "config/smoke.yaml", "--unlock")
    resumed = snakemake(workdir, target, "--configfile", "config/smoke.yaml", "--rerun-incomplete")
    snakemake(workdir, "--configfile", "config/smoke.yaml")  # then everything, trained models included
    return {"workdir": workdir, "target": target, "finished_before_kill": finished, "resume_output": resumed.stdout}


@pytest.mark.slow
def test_smoke_dag_produces_every_output(smoke_run):
    workdir = smoke_run["workdir"]
    config = smoke_config(workdir)
    rows = summary(workdir)
    assert rows, "empty summary"
    not_ok = [(row["output_file"], row["status"]) for row in rows if row["status"] != "ok"]
    assert not not_ok, f"outputs not up to date after a full run: {not_ok}"
    for row in rows:
        path = workdir / row["output_file"]
        assert path.is_file() and path.stat().st_size > 0, f"missing or empty output {row['output_file']}"
    outputs = {row["output_file"] for row in rows}
    for name in config["experiments"]:
        assert f"{config['results_dir']}/tables/{name}.csv" in outputs
    for model in config["models"]:  # the schedule a user takes home, per trained model
        plan = json.loads((workdir / config["results_dir"] / "schedules" / f"{model}.json").read_text())
        assert plan["metadata"]["model"] == model and plan["by_k"] and plan["curve"]["z_lower"]
    figures = [path for path in outputs if path.startswith(config["figures_dir"] + "/")]
    assert any(path.endswith(".png") for path in figures) and any(path.endswith(".pdf") for path in figures)
    reports = {path for path in outputs if path.startswith(config["reports_dir"] + "/") and path.endswith(".html")}
    assert f"{config['reports_dir']}/index.html" in reports and len(reports) >= 2
    # every job logged and benchmarked (the index summarises the benchmarks)
    blocks = [block for block in job_blocks(smoke_run["output"]) if "output" in block]  # not `rule all`
    assert blocks
    for block in blocks:
        for key in ("log", "benchmark"):
            assert (workdir / block[key].split(", ")[0]).is_file(), f"rule {block['rule']}: no {key} file"
    index = (workdir / config["reports_dir"] / "index.md").read_text()
    for figure in figures:
        assert Path(figure).name in index, f"index.md does not list {figure}"
    assert "Runtime per stage" in index and "| experiment |" in index
    assert re.search(r"\*\*[^*]*ccl_report: \d+ PASS, 0 FAIL, \d+ INFO", index), index[:2000]
    for report in ("ccl_report", "lz_report", "learned_report"):  # the claims tables the index read
        assert f"{config['results_dir']}/claims/{report}.csv" in outputs
    print(f"smoke workflow: {len(blocks)} jobs in {smoke_run['seconds']:.1f} s")


@pytest.mark.slow
def test_finished_workflow_has_nothing_to_do(smoke_run):
    result = snakemake(smoke_run["workdir"], "--configfile", "config/smoke.yaml", "--dry-run")
    assert "Nothing to be done" in result.stdout, result.stdout[-3000:]


@pytest.mark.slow
def test_interrupted_run_resumes_without_redoing_finished_work(resumed_run):
    workdir = resumed_run["workdir"]
    finished = resumed_run["finished_before_kill"]
    assert finished, "no table was finished before the kill"
    rerun = {block["rule"] for block in job_blocks(resumed_run["resume_output"])}
    assert resumed_run["target"] in rerun
    assert "experiment" not in rerun, "the resumed run recomputed finished tables"
    folder = workdir / smoke_config(workdir)["results_dir"] / "tables"
    for name, mtime in finished.items():
        assert (folder / name).stat().st_mtime_ns == mtime, f"{name} was rewritten"
    # no temporary leftovers of the killed job next to the outputs
    config = smoke_config(workdir)
    for folder in (config["reports_dir"], config["figures_dir"], f"{config['results_dir']}/tables"):
        leftovers = [path.name for path in (workdir / folder).glob(".*") if path.is_file()]
        assert not leftovers, f"temporary files left in {folder}: {leftovers}"


@pytest.mark.slow
def test_two_runs_give_identical_tables(smoke_run, resumed_run):
    first, second = tables(smoke_run["workdir"]), tables(resumed_run["workdir"])
    config = smoke_config(smoke_run["workdir"])
    learned = {f"learned_{model}_{table}.csv" for model in config["models"] for table in LEARNED_TABLES}
    assert set(first) == {f"{name}.csv" for name in config["experiments"]} | learned
    assert set(second) == set(first)
    different = [name for name in first if first[name] != second[name]]
    assert not different, f"tables differ between two runs of the same config: {different}"


@pytest.mark.slow
def test_deleted_output_reruns_only_its_job_and_what_depends_on_it(smoke_run, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(smoke_run["workdir"], workdir, symlinks=True)  # keeps mtimes and .snakemake
    config = smoke_config(workdir)
    name = sorted(config["experiments"])[0]
    table = f"{config['results_dir']}/tables/{name}.csv"
    (workdir / table).unlink()
    planned = job_blocks(snakemake(workdir, "--configfile", "config/smoke.yaml", "--dry-run").stdout)
    experiments = [block.get("wildcards") for block in planned if block["rule"] == "experiment"]
    assert experiments == [f"experiment={name}"], f"planned experiments: {experiments}"
    for block in planned:  # the table, the claims and reports that read it, the index
        assert block["rule"] in {"experiment", "claims", "index", "all"} or block["rule"].startswith("render_"), block["rule"]
    assert any(block["rule"].startswith("render_") for block in planned) and any(b["rule"] == "index" for b in planned)
    assert any(block["rule"] == "claims" for block in planned)


@pytest.mark.slow
def test_failing_rule_leaves_no_partial_output(smoke_run):
    workdir = smoke_run["workdir"]
    config = smoke_config(workdir)
    bad = dict(config, results_dir="results/failing", reports_dir="reports/failing", figures_dir="figures/failing",
               data_dir="data/failing", models_dir="models/failing")
    # a config that passes every check before the run and fails at run time: training diverges
    model = sorted(config["models"])[0]
    spec = config["models"][model]
    bad["models"] = {model: {**spec, "training": {**spec["training"], "lr": 1e6, "warmup_steps": 0}}}
    (workdir / "config" / "failing.yaml").write_text(yaml.safe_dump(bad))
    checkpoint = workdir / "models/failing" / f"{model}.pt"
    result = snakemake(workdir, checkpoint.relative_to(workdir), "--configfile", "config/failing.yaml", check=False)
    assert result.returncode != 0
    assert "training diverged" in result.stdout, result.stdout[-3000:]
    # nothing published; models/failing/partial/ keeps the last finite checkpoint, if one was written
    leftovers = [path.name for path in checkpoint.parent.glob("*") if path.is_file()]
    assert not leftovers, f"the failed job left {leftovers}"


def test_snakefile_rejects_an_unknown_config_key_by_name(workflow_copy):
    result = snakemake(workflow_copy["workdir"], "--configfile", "config/smoke.yaml", "--config", "bogus_key=1",
                       "--dry-run", check=False, timeout=300)
    assert result.returncode != 0
    assert "invalid config" in result.stdout.lower() and "bogus_key: unknown key" in result.stdout, result.stdout[-3000:]


@pytest.mark.parametrize(
    "change, key",
    [({"bogus_key": 1}, "bogus_key"), ({"seed": "zero"}, "seed"), ({"seed": -1}, "seed"),
     ({"experiments": []}, "experiments"), ({"results_dir": None}, "results_dir")],
    ids=["unknown key", "wrong type", "out of range", "experiments not a mapping", "null folder"],
)
def test_schema_rejects_bad_config_naming_the_key(change, key):
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    config = {**yaml.safe_load((REPO / "config" / "smoke.yaml").read_text()), **change}
    with pytest.raises(WorkflowError) as error:
        validate(config, str(REPO / "workflow/schemas/config.schema.yaml"))
    assert key in str(error.value)


def test_shipped_configs_are_valid_and_list_the_same_experiments():
    """Every shipped config runs the whole replication at its own sizes (a `--configfile` is the whole
    config: nothing of config/config.yaml is merged in)."""
    from snakemake.utils import validate

    configs = {path.name: yaml.safe_load(path.read_text()) for path in sorted((REPO / "config").glob("*.yaml"))}
    assert {"config.yaml", "smoke.yaml", "paper.yaml"} <= set(configs)
    for name, config in configs.items():
        validate(config, str(REPO / "workflow/schemas/config.schema.yaml"))
        assert set(config["experiments"]) == set(configs["config.yaml"]["experiments"]), name
        # every shipped config trains the default models, each sized by the config itself
        assert set(config["models"]) >= set(configs["config.yaml"]["models"]), name
        for model in configs["config.yaml"]["models"]:
            assert {"data", "model", "training"} <= set(config["models"][model]), (name, model)


def test_lint_is_clean(workflow_copy):
    result = snakemake(workflow_copy["workdir"], "--lint", check=False, timeout=300)
    assert result.returncode == 0, result.stdout


def test_every_rule_declares_log_benchmark_and_resources(workflow_copy):
    """Resources a rule leaves out would show the sentinel defaults given here."""
    out = snakemake(workflow_copy["workdir"], "--configfile", "config/smoke.yaml", "--dry-run", "--forceall",
                    "--default-resources", "mem_mb=123457", "runtime=98765", timeout=300).stdout
    blocks = [block for block in job_blocks(out) if "output" in block]  # not `rule all`
    assert blocks
    for block in blocks:
        assert "log" in block and "benchmark" in block, f"rule {block['rule']} lacks log: or benchmark:"
        assert "mem_mb=" in block["resources"] and "mem_mb=123457" not in block["resources"], block
        assert "runtime=" in block["resources"] and "runtime=98765" not in block["resources"], block


def test_slurm_profile_requests_resources_per_rule(workflow_copy):
    """A dry run through profiles/slurm (no SLURM needed): the partition comes from the environment,
    rules keep their own mem_mb/runtime (profiles/default, read last, must not reset them), and every
    training rule asks for a GPU."""
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    assert profile["executor"] == "slurm" and profile["slurm-status-command"] == "squeue"
    assert "default-resources" not in yaml.safe_load((REPO / "profiles/default/config.yaml").read_text())
    env = dict(os.environ, MDMSCHED_SLURM_PARTITION="testpartition")
    out = subprocess.run(
        [SNAKEMAKE, "--profile", "profiles/slurm", "--configfile", "config/smoke.yaml", "--dry-run", "--forceall"],
        cwd=workflow_copy["workdir"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stdout[-3000:]
    blocks = [block for block in job_blocks(out.stdout) if "output" in block]
    assert blocks
    for block in blocks:
        assert "slurm_partition=testpartition" in block["resources"], block
        if block["rule"].startswith("train"):
            assert re.search(r"\bgpu=1\b", block["resources"]), f"{block['rule']} asks for no GPU: add it to set-resources"


@pytest.mark.slow
def test_snakemake_report(smoke_run):
    workdir = smoke_run["workdir"]
    snakemake(workdir, "--configfile", "config/smoke.yaml", "--report", "report.html", timeout=300)
    report = workdir / "report.html"
    assert report.stat().st_size > 10_000
    text = report.read_text(errors="replace")
    config = smoke_config(workdir)
    for png in (workdir / config["figures_dir"]).glob("*.png"):
        assert png.name in text, f"{png.name} not in the Snakemake report"


def _requirement_names(lines) -> dict[str, str]:
    names = {}
    for line in lines:
        line = str(line).split("#")[0].strip()
        if line and not line.startswith("-"):
            name = re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0]
            names[name.lower().replace("_", "-")] = line.replace(" ", "")
    return names


def test_conda_envs_list_the_requirements():
    """envs/*.yaml is valid YAML and lists the same packages, with the same version bounds, as
    requirements.txt (torch, installed separately, may be added)."""
    required = _requirement_names((REPO / "requirements.txt").read_text().splitlines())
    assert required
    envs = sorted((REPO / "envs").glob("*.yaml"))
    assert envs
    for path in envs:
        env = yaml.safe_load(path.read_text())
        assert isinstance(env, dict) and env.get("dependencies"), path
        conda, pip = [], []
        for dependency in env["dependencies"]:
            if isinstance(dependency, dict):
                pip += dependency.get("pip", [])
            else:
                conda.append(str(dependency))
        assert not [line for line in pip if str(line).startswith(("-r", "-e", "."))], (
            f"{path.name}: Snakemake copies env files into .snakemake/conda/, so relative references break")
        listed = {**_requirement_names(conda), **_requirement_names(pip)}
        missing = sorted(set(required) - set(listed))
        assert not missing, f"{path.name} lacks {missing}"
        for name, line in required.items():
            assert listed[name] == line, f"{path.name}: {listed[name]} vs requirements.txt {line}"
        extra = sorted(set(listed) - set(required) - {"python", "pip", "torch", "pytorch", "cpuonly"})
        assert not extra, f"{path.name} lists packages requirements.txt does not: {extra}"
