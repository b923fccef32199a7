"""CCL experiments, panels and the evaluation helpers they use, at tiny sizes (numbers asserted)."""

import math
import re
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

matplotlib.use("Agg")

import mdmsched  # noqa: E402
from mdmsched import distributions, error, evaluation, information, schedules  # noqa: E402
from mdmsched.experiments import run_experiment  # noqa: E402
from mdmsched.io import read_table  # noqa: E402
from test_schedules import random_curve  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

TINY = {
    "ccl_figure1": {},
    "ccl_identity": {
        "n": 4,
        "samples": 300,
        "families": ["product", "tabular", "all_equal", "parity", "reed_solomon", "markov", "block_copy"],
        "mc_n": 8,
        "mc_families": ["markov", "reed_solomon", "code_lift"],
    },
    "ccl_error_vs_k": {"n": 16, "enumeration_n": 6, "eps_points": 4},
    "ccl_steps_vs_n": {"n_min": 16, "n_max": 128},
    "ccl_rs_codes": {"n": 8, "q": 11, "samples": 100, "uniform_steps": [2, 4], "grid_steps": 4},
    "ccl_code_lift": {"n": 6, "q": 7, "steps": [2, 3], "samples": 200},
    "ccl_appendix_e": {"ns": [64, 128], "eps": [0.1, 0.2]},
    "ccl_sweep": {"n": 16, "enumeration_n": 6, "eps": [0.1, 0.5]},
    "ccl_heuristics": {"n": 32, "enumeration_n": 6, "k_points": 8},
}


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tables")
    for name, params in TINY.items():
        run_experiment(name, params, seed=0, out=folder / f"{name}.csv")
    return folder


def load(tables, name):
    return read_table(tables / f"{name}.csv")


# --- evaluation helpers --------------------------------------------------------------------------


def test_steps_to_reach_is_the_smallest_k_not_a_bisection():
    """The worked case: cosine's error is not monotone in k on an MDS curve; bisection said 99."""
    z = distributions.mds_curve(1024, 256, 1031)
    eps = 0.01 * z.sum()
    errors = [error.expected_kl(z, schedules.cosine(1024, k)) for k in range(1, 100)]
    assert mdmsched.steps_to_reach(z, eps, "cosine") == 13
    assert errors[12] <= eps and min(errors[:12]) > eps and errors[13] > eps  # k = 14 misses again
    with pytest.raises(ValueError):
        mdmsched.steps_to_reach(z, -1.0, "cosine")


def full_scan(z, eps, name, built_from=None, **params):
    n = len(z)
    source = z if built_from is None else built_from
    return min(k for k in range(1, n + 1) if error.expected_kl(z, evaluation.build(name, source, k, **params)) <= eps)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), name=st.sampled_from(["uniform", "cosine", "loglinear", "geometric", "polynomial", "sqrt", "optimal"]),
       fraction=st.sampled_from([0.0, 1e-3, 0.01, 0.1, 0.3, 0.9, 1.0]), other=st.booleans())
@settings(max_examples=300, deadline=None)
def test_steps_to_reach_equals_full_scan(seed, n, name, fraction, other):
    rng = np.random.default_rng(seed)
    z = random_curve(rng, n)
    built_from = random_curve(rng, n) if other and name != "optimal" else None
    eps = fraction * error.expected_kl(z, [n])  # a fraction of TC (the one-shot error)
    assert mdmsched.steps_to_reach(z, eps, name, built_from=built_from) == full_scan(z, eps, name, built_from)


def test_analysis_helpers():
    assert evaluation.next_boundary_error([3, 3, 2], 3) == 0
    assert evaluation.next_boundary_error([3, 3, 2], 4) == 2
    assert evaluation.li_cai_steps(1024, 1.0, 1.0, 0.1) == 32  # s = 2^floor(log2(1 + 51.2)) = 32
    assert evaluation.li_cai_steps(100, 0.0, 0.0, 0.1) == 1
    fit = evaluation.fit_log_law([16, 64, 256], 3 + 2 * np.log([16, 64, 256]))
    assert fit["slope"] == pytest.approx(2) and fit["intercept"] == pytest.approx(3) and fit["r2"] == pytest.approx(1)


# --- experiments ---------------------------------------------------------------------------------


def test_identity(tables):
    table = load(tables, "ccl_identity")
    enum = table[table.block == "enumeration"]
    assert len(enum) > 30 and table.block.eq("monte_carlo").any()
    assert np.allclose(enum.theorem, enum.bruteforce, atol=1e-12)  # CCL Thm 4 / 16
    assert (enum.mixture_kl <= enum.theorem + 1e-12).all()  # Thm 16
    one_shot = enum[enum.k == 1]
    assert np.allclose(one_shot.theorem, one_shot.tc, atol=1e-12)
    assert ((table.mc - table.theorem).abs() <= 4 * table.mc_se + 1e-9).all()


def test_error_vs_k(tables):
    from mdmsched.claims.ccl import envelope

    table = load(tables, "ccl_error_vs_k")
    joined = envelope(table)
    assert joined.optimum.notna().all()
    assert (joined.expected_kl >= joined.optimum - 1e-12).all()  # the optimum is the lower envelope
    thm9 = table[(table.kind == "eps") & table.schedule.isin(["tc", "dtc"])]
    assert len(thm9) and (thm9.expected_kl <= thm9.eps + 1e-12).all() and (thm9.steps <= thm9.thm9_bound).all()
    cor34 = table[(table.kind == "eps") & (table.schedule == "austin_cor34")]
    assert (cor34.expected_kl <= cor34.eps + 1e-12).all()


def test_steps_vs_n(tables):
    table = load(tables, "ccl_steps_vs_n")
    assert sorted(table.n.unique()) == [16, 32, 64, 128]
    for name, column in (("tc", "tc"), ("dtc", "dtc")):
        rows = table[table.schedule == name]
        bound = [error.thm9_step_bound(n, eps, c) for n, eps, c in zip(rows.n, rows.eps, rows[column])]
        assert (rows.steps <= bound).all() and (rows.expected_kl <= rows.eps + 1e-12).all()
    parity = table[table.family.str.startswith("parity")]
    assert (parity[parity.schedule == "optimal"].steps == 2).all()  # (n - 1, 1) is exact
    assert (parity[parity.schedule == "li-cai bound"].steps == parity[parity.schedule == "li-cai bound"].n).all()
    schedule_rows = table[table.kind == "schedule"]
    assert (schedule_rows.expected_kl <= schedule_rows.eps + 1e-12).all()


def test_rs_codes(tables):
    table = load(tables, "ccl_rs_codes")
    n, q = 8, 11
    assert sorted(table.dimension.unique()) == list(range(1, n))
    assert np.allclose(table.expected_kl, table.closed_form, atol=1e-12)
    aware = table[table.schedule == "optimal (d, n-d)"]
    assert (aware.expected_kl.abs() <= 1e-12).all() and (aware.outside_share == 0).all()
    one_shot = table[table.schedule.str.startswith("thm9 tuned on uniform")]
    assert np.allclose(one_shot.expected_kl, (n - one_shot.dimension) * math.log(q))  # = TC
    worst = table[table.group == "oblivious"].groupby("schedule").outside_share.max()
    assert (worst >= 1 / 16).all()  # CCL Thm 24


def test_code_lift(tables):
    table = load(tables, "ccl_code_lift")
    enumerated, errors = table[table.kind == "enumerated"], table[table.kind == "error"]
    assert sorted(enumerated.k.unique()) == [1, 2, 3, 4]  # every dimension at the enumerated length 5
    assert np.allclose(enumerated.z_family, enumerated.z_up, atol=1e-12)  # CCL Thm 25 from the joint pmf
    assert not np.allclose(enumerated.z_family, enumerated.z)  # the code part is there
    assert np.allclose(errors.expected_kl, errors.markov_part + errors.code_part, atol=1e-12)
    mc = errors[errors.mc.notna()]
    assert len(mc) and ((mc.mc - mc.expected_kl).abs() <= 4 * mc.mc_se + 1e-9).all()


def test_appendix_e(tables):
    table = load(tables, "ccl_appendix_e")
    for (n, eps), rows in table[table.kind == "optimal"].groupby(["n", "eps"]):
        values = rows.sort_values("k").expected_kl.to_numpy()
        assert np.all(np.diff(values) <= 1e-12)
        z = distributions.appendix_e_curve(int(n), float(eps))
        assert values[0] == pytest.approx(np.sum(z - z[0]))  # one step: TC - n Z_1 (this curve has Z_1 > 0)
    thm9 = table[table.kind == "thm9"]
    assert (thm9.expected_kl <= thm9.eps + 1e-12).all()


def test_sweep(tables):
    table = load(tables, "ccl_sweep")
    sweep_rows = table[table.kind == "sweep"]
    stops = sweep_rows[sweep_rows.stop]
    assert stops.groupby(["family", "eps"]).size().eq(1).all()  # every sweep stops exactly once
    assert len(stops) == table.groupby(["family", "eps"]).ngroups
    assert (stops.expected_kl <= stops.eps + 1e-12).all()
    known = table[table.kind == "known"]
    assert (known.expected_kl <= known.eps + 1e-12).all()  # CCL Thm 9 with the true TC / DTC


def test_heuristics(tables):
    table = load(tables, "ccl_heuristics")
    at_k = table[table.kind == "k"]
    assert (at_k.ratio >= 1 - 1e-9).all()
    steps = table[table.kind == "steps"]
    assert (steps.ratio >= 1).all() and (steps[steps.schedule == "optimal"].ratio == 1).all()
    assert (steps.expected_kl <= steps.eps + 1e-12).all() and {"tc", "dtc", "cosine", "uniform"} <= set(steps.schedule)
    for row in steps[steps.schedule.isin(["cosine", "uniform", "loglinear", "geometric"])].itertuples():
        z = _curve(row.family, row.n)
        assert mdmsched.steps_to_reach(z, row.eps, row.schedule) == row.steps


# --- panels, notebook and workflow names ---------------------------------------------------------


def test_panels_draw_and_claims_pass(tables, tmp_path, monkeypatch):
    from mdmsched import claims
    from mdmsched.plots import ccl

    saved = []
    monkeypatch.setattr(ccl, "save_figure", lambda fig, name, folder: saved.append(name))
    for panel in ccl.FIGURES:
        readable = getattr(ccl, panel)(tables, tmp_path)
        assert readable is not None and len(readable)
        matplotlib.pyplot.close("all")
    assert sorted(saved) == sorted(name for names in ccl.FIGURES.values() for name in names)
    verdicts = claims.write_claims("ccl_report", {name: tables / f"{name}.csv" for name in TINY}, tmp_path / "claims.csv")
    assert verdicts.claim.is_unique and set(verdicts.status) <= {"PASS", "INFO"}, verdicts[verdicts.status == "FAIL"].to_string()
    assert claims.read_claims(tmp_path / "claims.csv").equals(verdicts.astype(str))
    # every claim is shown in the section of the experiment it reads
    shown = {name for panel in ccl.FIGURES for name in claims.reading(verdicts, f"ccl_{panel}").claim}
    assert shown == set(verdicts.claim)
    assert not verdicts.apply(lambda row: row.str.contains("issue", case=False)).any().any()


def _curve(label, n):
    from mdmsched.experiments.ccl import CURVE_FAMILIES, family_curve

    spec = next(spec for spec in CURVE_FAMILIES if spec["label"] == label)
    return family_curve(spec, n, TINY["ccl_heuristics"]["enumeration_n"])[1]


def test_notebook_and_workflow_list_every_panel():
    from mdmsched.plots import ccl
    from mdmsched.reports import REPORTS

    notebook = nbformat.read(ROOT / "notebooks" / "ccl_report.ipynb", as_version=4)
    assert any("parameters" in cell.metadata.get("tags", []) for cell in notebook.cells)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert set(re.findall(r"ccl\.show\(ccl\.(\w+)", code)) == set(ccl.FIGURES)
    report = REPORTS["ccl_report"]
    assert report.figures == tuple(name for names in ccl.FIGURES.values() for name in names)
    assert set(report.experiments) == set(TINY)
