"""Bad input to the library and the command line: a valid value or a ValueError naming the parameter.

Each case that once gave a silently wrong value or a crash is pinned here (invalid curves, infinite
or overflowing schedule parameters, meaningless experiment parameters, non-object --params), and
hypothesis drives the public API (schedules, curves, expected KL, optimum, estimators) and the CLI
with arbitrary input: every call returns a valid value or raises ValueError whose message names a
parameter; the CLI exits 0, or 2 with one line and no traceback.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mdmsched
from mdmsched import distributions, error, evaluation, information, schedules
from mdmsched.cli import main
from mdmsched.config import ConfigError, check_schema
from mdmsched.experiments import check_params, run_experiment
from mdmsched.estimation import estimate_information_curve, information_curve_monte_carlo

REPO = Path(__file__).resolve().parents[1]
NAN, INF = float("nan"), float("inf")


def names_a_parameter(message: str, parameters) -> bool:
    return any(re.search(rf"(^|[^\w]){re.escape(p)}([^\w]|$)", message) for p in parameters)


# --- one curve validator --------------------------------------------------------------------------

BAD_CURVES = {
    "decreasing": [0, 1, 0.5, 2, 2, 3],
    "nan": [0, NAN, 1, 1, 2, 2],
    "inf": [0, 1, INF, INF, INF, INF],
    "Z_1 not 0": [1, 1, 2, 2, 3, 3],
}


@pytest.mark.parametrize("curve", BAD_CURVES.values(), ids=BAD_CURVES.keys())
@pytest.mark.parametrize(
    "call",
    [
        lambda z: mdmsched.expected_kl(z, [3, 3]),
        lambda z: error.block_errors(z, [3, 3]),
        lambda z: error.li_cai_bound(z, [3, 3]),
        lambda z: mdmsched.optimal_schedule(z, 2),
        lambda z: schedules.schedule("sqrt", 6, k=2, z=z),
        lambda z: schedules.schedule("optimal", 6, k=2, z=z),
        lambda z: information.profile_from_curve(z),
        lambda z: information.tc_from_curve(z),
        lambda z: information.dtc_from_curve(z),
        lambda z: schedules.block_cost(z, 0, 3),
    ],
    ids=["expected_kl", "block_errors", "li_cai_bound", "optimal_schedule", "sqrt", "optimal", "profile",
         "tc", "dtc", "block_cost"],
)
def test_every_function_taking_a_curve_rejects_an_invalid_one(call, curve):
    """expected_kl([0, 1, .5, 2, 2, 3], [3, 3]) returned 2.5 and a NaN curve gave nan."""
    with pytest.raises(ValueError, match=r"\bz must"):
        call(curve)


@pytest.mark.parametrize(
    "call",
    [
        lambda f: schedules.sqrt_rule(6, 2, f),
        lambda f: schedules.schedule("sqrt", 6, k=2, profile=f),
        lambda f: error.factorization_error(f, [3, 3]),
    ],
    ids=["sqrt_rule", "schedule sqrt", "factorization_error"],
)
@pytest.mark.parametrize("profile", [[1, NAN, 1, 1, 1], [1, -1, 1, 1, 1], [1, INF, 1, 1, 1]],
                         ids=["nan", "negative", "inf"])
def test_every_function_taking_a_profile_rejects_an_invalid_one(call, profile):
    with pytest.raises(ValueError, match="profile"):
        call(profile)


def test_sqrt_continuum_rejects_a_nan_or_negative_profile_function():
    with pytest.raises(ValueError, match=r"g\(u\)"):
        schedules.sqrt_rule_continuum(8, 2, lambda u: np.full_like(u, NAN))
    with pytest.raises(ValueError, match=r"g\(u\)"):
        schedules.sqrt_rule_continuum(8, 2, lambda u: 1 - 2 * u)


def test_curve_tolerance_is_stated_and_relative():
    """Rounding below CURVE_TOLERANCE x max(1, |Z|) passes; a real dip does not."""
    assert information.CURVE_TOLERANCE == 1e-9
    big = np.array([0.0, 1e6, 1e6 - 1e-4])  # dip of 1e-10 relative to the scale
    assert np.array_equal(information.check_curve(big), big)
    with pytest.raises(ValueError, match="nondecreasing"):
        information.check_curve([0.0, 1.0, 1.0 - 1e-6])
    with pytest.raises(ValueError, match="Z_1 = 0"):
        information.check_curve([1e-6, 1.0])


# --- extreme schedule parameters: defined values or ValueError ----------------------------------

@pytest.mark.parametrize(
    "name, params, steps",
    [
        ("tc", {"eps": 1.0, "tc": INF}, 100),  # nothing known: one token per step
        ("tc", {"eps": 1.0, "tc": 1e999}, 100),  # 1e999 is inf in Python
        ("dtc", {"eps": 1.0, "dtc": INF}, 100),
        ("tc", {"eps": INF, "tc": 5.0}, 1),  # any error allowed: one step
        ("dtc", {"eps": INF, "dtc": 5.0}, 1),
        ("tc", {"eps": 1e-320, "tc": 5.0}, 100),  # the quotient overflows
        ("austin_thm10", {"eps": INF, "dtc": 5.0}, 1),
        ("austin_thm10", {"eps": 1.0, "dtc": INF}, 100),
        ("austin_thm10", {"eps": 1e-320, "dtc": 5.0}, 100),
        ("austin_cor34", {"eps": INF, "dtc": 5.0}, 1),
        ("austin_cor34", {"eps": 1e-320, "dtc": 5.0}, 100),
    ],
)
def test_infinite_and_overflowing_schedule_parameters_have_defined_schedules(name, params, steps):
    """tc=inf and tc=1e999 raised OverflowError; austin_thm10 with eps=inf a NaN conversion error."""
    sizes = schedules.schedule(name, 100, **params)
    assert sizes.sum() == 100 and len(sizes) == steps


@pytest.mark.parametrize(
    "call, parameter",
    [
        (lambda: schedules.schedule("tc", 100, eps=INF, tc=INF), "eps"),
        (lambda: schedules.schedule("tc", 100, eps=NAN, tc=1.0), "eps"),
        (lambda: schedules.schedule("dtc", 100, eps=1.0, dtc=NAN), "dtc"),
        (lambda: schedules.schedule("austin_thm10", 100, eps=1.0, dtc="a lot"), "dtc"),
        (lambda: schedules.sweep_grid(10, 1, 0.1), "q"),  # "math domain error" before
        (lambda: schedules.sweep_grid(10, 2, INF), "eps"),
        (lambda: schedules.polynomial(10, 3, NAN), "power"),
        (lambda: schedules.polynomial(10, 3, INF), "power"),
        (lambda: schedules.schedule("uniform", True, k=1), "n"),
        (lambda: schedules.sqrt_rule_continuum(8, 2, lambda u: u, grid=0), "grid"),
        (lambda: information_curve_monte_carlo(distributions.make_family("markov", n=4), 1,
                                                           np.random.default_rng(0)), "m"),
        (lambda: error.expected_kl_monte_carlo(distributions.make_family("markov", n=4), None, [2, 2], 0,
                                               np.random.default_rng(0)), "m"),
        (lambda: evaluation.steps_to_reach(np.array([0.0, 1, 2, 3]), NAN, "uniform"), "eps"),  # returned n
        (lambda: evaluation.steps_to_reach(np.array([0.0, 1, 2, 3]), -1.0, "optimal"), "eps"),
        (lambda: evaluation.log_grid(0, 5), "n"),  # "Geometric sequence cannot include zero"
        (lambda: estimate_information_curve(distributions.make_family("markov", n=4),
                                            np.zeros((8, 4), dtype=int), n_bootstrap=-1), "n_bootstrap"),
    ],
)
def test_meaningless_parameters_raise_value_errors_naming_them(call, parameter):
    with pytest.raises(ValueError) as raised:
        call()
    assert names_a_parameter(str(raised.value), [parameter]), str(raised.value)


@pytest.mark.parametrize(
    "params, parameter",
    [({"n": 0}, "n"), ({"n": -1}, "n"), ({"n": 2.5}, "n"), ({"n": 8, "stay": 1.5}, "stay"),
     ({"n": 8, "q": 1}, "q"), ({"n": 8, "seed": 1e3}, "seed")],
)
def test_family_parameters_are_checked_by_name(params, parameter):
    """make_family('markov', n=0) said 'all the input arrays must have same number of dimensions'."""
    with pytest.raises(ValueError, match=rf"family 'markov': {parameter}:"):
        distributions.make_family("markov", **params)


# --- experiment parameters --------------------------------------------------------------------------

@pytest.mark.parametrize(
    "name, params, message",
    [
        ("ccl_error_vs_k", {"eps_point": 3}, r"ccl_error_vs_k\.eps_point: unknown parameter"),
        ("ccl_steps_vs_n", {"n_min": 400, "n_max": 30}, r"n_min: 400 exceeds n_max=30"),
        ("ccl_steps_vs_n", {"n_min": 40000}, r"n_min: 40000 exceeds n_max=16384"),  # against the default
        ("lz_gaussian_steps", {"eps": 0}, r"lz_gaussian_steps\.eps"),
        ("lz_gaussian_steps", {"eps": -0.1}, r"lz_gaussian_steps\.eps"),
        ("ccl_heuristics", {"names": []}, r"ccl_heuristics\.names: \[\] should be non-empty"),
        ("ccl_heuristics", {"names": ["cosine", "bogus"]}, r"ccl_heuristics\.names\[1\]"),
        ("ccl_sweep", {"eps": []}, r"ccl_sweep\.eps"),
        ("lz_profiles", {"n": 1e3}, r"lz_profiles\.n: 1000\.0 is not of type 'integer'"),
        ("lz_profiles", {"families": ["markov", "nope"]}, r"lz_profiles\.families\[1\]"),
        ("ccl_sweep", {"families": [{"family": "markov", "stya": 0.3}]}, r"families\[0\]\.stya: unknown parameter"),
        ("ccl_sweep", {"families": [{"family": "nope"}]}, r"families\[0\]\.family"),
        ("ccl_sweep", {"families": [{"family": "markov", "stay": 1.5}]}, r"ccl_sweep\.families\[0\]\.stay: 1\.5"),
        ("ccl_error_vs_k", {"families": [{"family": "markov", "q": 1}]}, r"families\[0\]\.q: 1 is less than"),
        ("ccl_identity", {"samples": True}, r"ccl_identity\.samples"),
        ("ccl_code_lift", {"q": 12}, r"ccl_code_lift\.q: q must be a prime"),
        ("ccl_rs_codes", {"n": 12, "q": 11}, r"ccl_rs_codes\.q: Reed-Solomon codes need q > n"),
        ("lz_optimal_path", {"n": 64, "k": 128}, r"lz_optimal_path\.k: 128 steps exceed n = 64"),
        ("lz_gaussian_errors", {"n_values": [16], "k_values": [32]}, r"k_values: 32 steps exceed n_values = 16"),
        ("ccl_figure1", {"curve": [0, 1, 0.5]}, r"ccl_figure1\.curve must be nondecreasing"),
        ("ccl_figure1", {"curve": [0, 1, 2]}, r"ccl_figure1\.sizes: sum 13 must equal the 3 points of curve"),
        ("nope", {}, r"unknown experiment 'nope'"),
    ],
)
def test_experiment_parameters_are_checked_before_anything_runs(name, params, message):
    with pytest.raises(ValueError, match=message):
        check_params(name, params)
    with pytest.raises(ValueError, match=message):
        run_experiment(name, params)


def test_lz_gaussian_steps_itself_rejects_eps_at_or_below_zero():
    """eps <= 0 gave meaningless rows at quadratic cost."""
    from mdmsched.experiments import lz

    with pytest.raises(ValueError, match="eps must be positive"):
        lz.gaussian_steps(n_values=(16,), eps=0.0)


def test_every_experiment_parameter_has_a_schema_and_every_default_passes_it():
    import inspect
    import json

    from mdmsched.experiments import EXPERIMENTS
    from mdmsched.experiments.parameters import schema

    for name, function in EXPERIMENTS.items():
        signature = inspect.signature(function)
        assert set(schema(name)["properties"]) == set(signature.parameters) - {"seed"}, name
        defaults = {k: p.default for k, p in signature.parameters.items() if k != "seed" and p.default is not None}
        check_params(name, json.loads(json.dumps(defaults)))


def test_an_empty_table_is_never_written(tmp_path):
    """An empty list of names wrote a header-less CSV that crashed the report later."""
    import pandas as pd

    from mdmsched.io import write_table

    with pytest.raises(ValueError, match="no columns"):
        write_table(pd.DataFrame(), tmp_path / "empty.csv")
    assert not list(tmp_path.iterdir())


def test_strict_types_reject_what_jsonschema_would_let_through():
    """jsonschema counts 1000.0 as an integer and inf as a number; the workflow must not."""
    with pytest.raises(ConfigError, match=r"seed: 1000\.0 is not of type 'integer'"):
        check_schema({"seed": 1e3}, {"properties": {"seed": {"type": "integer"}}})
    with pytest.raises(ConfigError, match=r"eps: inf is not a finite number"):
        check_schema({"eps": INF}, {"properties": {"eps": {"type": "number"}}})
    with pytest.raises(ConfigError, match=r"steps: '4' is not of type 'integer' \(a string: nested --config"):
        check_schema({"steps": "4"}, {"properties": {"steps": {"type": "integer"}}})
    with pytest.raises(ConfigError, match="flag: True is not of type 'integer'"):
        check_schema({"flag": True}, {"properties": {"flag": {"type": "integer"}}})
    check_schema({"big": 10**400}, {"properties": {"big": {"type": "number"}}})  # no OverflowError


# --- the command line -------------------------------------------------------------------------------

def run_cli(argv):
    """(exit status, stdout, stderr) of the CLI run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    "argv, words",
    [
        (["schedule", "tc", "100", "--params", "[1, 2]"], "--params must be a JSON object"),
        (["schedule", "tc", "100", "--params", '"text"'], "--params must be a JSON object"),
        (["schedule", "tc", "100", "--params", "{"], "--params is not valid JSON"),
        (["schedule", "tc", "100", "--params", '{"eps": 0, "tc": 1}'], "eps must be positive"),
        (["schedule", "sqrt", "6", "--params", '{"k": 2, "z": [0, 1, 0.5, 2, 2, 3]}'], "z must be nondecreasing"),
        (["schedule", "uniform", "x"], "invalid int value"),
        (["schedule", "uniform", "10", "--params", '{"k": 10000000000000000000000}'], "k (number of steps)"),
        (["schedule", "nope", "10"], "unknown schedule"),
        (["experiment", "nope", "--out", "x.csv"], "unknown experiment"),
        (["experiment", "ccl_error_vs_k", "--params", '{"eps_point": 1}', "--out", "x.csv"], "eps_point: unknown"),
        (["experiment"], "required"),
        (["bogus"], "invalid choice"),
    ],
)
def test_cli_user_errors_exit_2_with_one_line(argv, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and words in err and "Traceback" not in err, err


def test_cli_overflow_is_a_user_error():
    """schedule tc with tc=1e999 was an OverflowError traceback; it is now a defined schedule."""
    code, out, err = run_cli(["schedule", "tc", "10", "--params", '{"eps": 1, "tc": 1e999}'])
    assert code == 0 and out.split() == ["1"] * 10


def test_cli_entry_point_prints_no_traceback():
    result = subprocess.run([sys.executable, "-m", "mdmsched.cli", "schedule", "tc", "9", "--params", "[1]"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([10**400, -10**400, 1e300])
    | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=8,
)
PARAM_KEYS = st.sampled_from(["k", "eps", "tc", "dtc", "power", "z", "profile", "bernoulli", "seed", "grid", "kk"])


@settings(max_examples=150)
@given(name=st.sampled_from(sorted(schedules.SCHEDULES) + ["nope"]), n=st.integers(-3, 30) | st.just(10**30),
       params=st.dictionaries(PARAM_KEYS, json_values, max_size=3) | json_values)
def test_cli_never_prints_a_traceback(name, n, params):
    import json

    code, out, err = run_cli(["schedule", name, str(n), "--params", json.dumps(params)])
    assert code in (0, 2), (code, err)
    if code == 2:
        assert len(err.strip().splitlines()) == 1 and err.startswith("mdmsched"), err
    else:
        assert sum(map(int, out.split())) == n


@settings(max_examples=60)
@given(name=st.sampled_from(["ccl_figure1", "ccl_error_vs_k", "lz_gaussian_steps", "nope"]),
       params=json_values, junk=st.booleans())
def test_cli_experiment_never_prints_a_traceback(name, params, junk, tmp_path_factory):
    """Arbitrary JSON as --params: Figure 1 (fast) may run; the other experiments get an unknown key
    too, so they are always refused before computing anything."""
    import json

    if junk and isinstance(params, dict):
        params = {**params, "not_a_parameter": 1}
    if name != "ccl_figure1" and not (isinstance(params, dict) and "not_a_parameter" in params):
        params = {"not_a_parameter": params}
    out = tmp_path_factory.mktemp("cli") / "table.csv"
    code, _, err = run_cli(["experiment", name, "--params", json.dumps(params), "--out", str(out)])
    assert code in (0, 2), (code, err)
    if code == 2:
        assert len(err.strip().splitlines()) == 1 and err.startswith("mdmsched") and not out.exists(), err


# --- property: the public API returns a valid value or names the parameter ------------------------

numbers = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-5, 60) | st.sampled_from([0, 0.0, -0.0, 1e-320, 1e999])
curves = st.lists(st.floats(-2, 10) | st.sampled_from([NAN, INF, -INF, 0.0]), min_size=0, max_size=12) | st.lists(
    st.floats(0, 3), min_size=1, max_size=12).map(lambda d: list(np.concatenate([[0.0], np.cumsum(d)[:-1]])))
size_lists = st.lists(st.integers(-1, 8) | st.floats(-1, 8), min_size=0, max_size=8)
ks = st.integers(-2, 20) | st.floats(-1, 20) | st.none()


def check_valid_or_names(call, parameters):
    try:
        value = call()
    except ValueError as problem:
        assert names_a_parameter(str(problem), parameters), f"{problem!s} names none of {parameters}"
        return None
    return value


@given(name=st.sampled_from(sorted(schedules.SCHEDULES)), n=st.integers(-2, 40),
       k=ks, eps=numbers, bound=numbers, power=numbers, z=curves)
def test_schedules_return_valid_sizes_or_name_the_parameter(name, n, k, eps, bound, power, z):
    params = {"uniform": {"k": k}, "balanced": {"k": k}, "cosine": {"k": k}, "geometric": {"k": k}, "loglinear": {"k": k},
              "polynomial": {"k": k, "power": power}, "tc": {"eps": eps, "tc": bound}, "dtc": {"eps": eps, "dtc": bound},
              "austin_cor34": {"eps": eps, "dtc": bound}, "austin_thm10": {"eps": eps, "dtc": bound},
              "optimal": {"k": k, "z": z}, "sqrt": {"k": k, "z": z}, "sqrt_continuum": {"k": k, "g": lambda u: u},
              "one_shot": {}, "autoregressive": {}}[name]
    params = {key: value for key, value in params.items() if value is not None}
    sizes = check_valid_or_names(lambda: schedules.schedule(name, n, **params), ["n", "z", "parameters", *params])
    if sizes is not None:
        schedules.validate_sizes(sizes, n)
        if "z" in params:  # built from a curve only if the curve is valid
            information.check_curve(z)
        if "power" in params:
            assert math.isfinite(power) and power > 0


def compositions(n: int):
    """Size lists summing to n (valid schedules of a curve of length n)."""
    if n <= 1:
        return st.just([n] if n else [])
    return st.sets(st.integers(1, n - 1), max_size=n - 1).map(
        lambda cuts: list(np.diff([0, *sorted(cuts), n]).astype(int)))


@given(z=curves, data=st.data())
def test_expected_kl_is_finite_and_nonnegative_or_names_the_parameter(z, data):
    sizes = data.draw(compositions(len(z)) | size_lists)
    value = check_valid_or_names(lambda: mdmsched.expected_kl(z, sizes), ["z", "sizes"])
    if value is not None:  # a value only for a valid curve (finite, Z_1 = 0, nondecreasing)
        information.check_curve(z)
        assert math.isfinite(value) and value >= -1e-6 * max(1.0, float(np.max(np.abs(z)))) * len(z)
        profile = check_valid_or_names(lambda: error.factorization_error(np.diff(z), sizes), ["profile", "sizes"])
        assert profile is None or profile == pytest.approx(value, abs=1e-6 * max(1.0, float(np.max(np.abs(z)))) * len(z))


@given(z=curves, k=ks)
def test_optimum_is_a_valid_schedule_or_names_the_parameter(z, k):
    result = check_valid_or_names(lambda: mdmsched.optimal_schedule(z, k), ["z", "k"])
    if result is not None:
        sizes, value = result
        assert sizes.sum() == len(z) and len(sizes) == k and math.isfinite(value)
        assert value == pytest.approx(mdmsched.expected_kl(z, sizes), abs=1e-9)


@given(z=curves)
def test_curve_summaries_are_finite_or_name_the_parameter(z):
    for function in (information.tc_from_curve, information.dtc_from_curve, information.profile_from_curve):
        value = check_valid_or_names(lambda: function(z), ["z"])
        if value is not None:
            assert np.isfinite(value).all()


@given(table=st.lists(st.floats(-1, 2) | st.sampled_from([NAN, INF]), min_size=1, max_size=8))
def test_exact_curves_of_tables_are_valid_or_name_the_pmf(table):
    size = len(table)
    p = np.asarray(table, dtype=np.float64)
    if size in (4, 8):
        p = p.reshape((2,) * int(math.log2(size)))
    if p.min() >= 0 and np.isfinite(p).all() and p.sum() > 0 and size in (4, 8):
        p = p / p.sum()
    z = check_valid_or_names(lambda: mdmsched.information_curve(p, workers=1), ["pmf"])
    if z is not None:
        information.check_curve(z, atol=1e-9)


@settings(max_examples=30)
@given(m=st.integers(-2, 40) | st.floats(-1, 10), sizes=size_lists)
def test_monte_carlo_estimators_are_finite_or_name_the_parameter(m, sizes):
    family = distributions.make_family("markov", n=4, stay=0.8)
    rng = np.random.default_rng(0)
    result = check_valid_or_names(lambda: error.expected_kl_monte_carlo(family, family, sizes, m, rng), ["m", "sizes"])
    if result is not None:
        assert math.isfinite(result["kl"])
    curve = check_valid_or_names(lambda: information_curve_monte_carlo(family, m, rng), ["m"])
    if curve is not None:
        assert np.isfinite(curve["z"]).all() and math.isfinite(curve["tc"])


# --- packaging --------------------------------------------------------------------------------------

def test_pyproject_declares_every_runtime_import():
    """`pip install .` alone gave a CLI failing with No module named 'pandas'."""
    import ast

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[<>=!~\[ ]", requirement)[0].lower() for requirement in declared["dependencies"]}
    optional = {re.split(r"[<>=!~\[ ]", requirement)[0].lower()
                for group in declared["optional-dependencies"].values() for requirement in group}
    module_to_package = {"yaml": "pyyaml", "IPython": "ipykernel"}
    local = set(sys.stdlib_module_names) | {"mdmsched"}
    imported = set()
    for path in (REPO / "src" / "mdmsched").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    packages = {module_to_package.get(module, module).lower() for module in imported - local}
    # the library proper needs its dependencies; torch (learned models) and the report tools are extras
    assert packages - names <= optional, packages - names - optional
    assert {"pandas", "matplotlib", "seaborn", "numpy", "scipy", "jsonschema", "pyyaml"} <= names
    workflow = " ".join(declared["optional-dependencies"]["workflow"])
    assert "snakemake-executor-plugin-slurm>=2.8" in workflow
    assert "snakemake-executor-plugin-slurm>=2.8" in (REPO / "requirements.txt").read_text()
