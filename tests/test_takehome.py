"""The schedule a user takes home: optimal num_transfer_tokens per k and per eps, JSON and CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mdmsched import cli, distributions, takehome
from mdmsched.error import expected_kl, expected_kl_bruteforce
from mdmsched.distributions import curve
from mdmsched.schedules import optimal_errors
from mdmsched.information import information_curve
from mdmsched.schedules import optimal_schedule


def test_optimal_for_k_is_the_dp_optimum_and_its_error_is_thm4():
    p = distributions.random_tabular(n=6, q=2, alpha=0.5, seed=3).pmf()
    z = information_curve(p)
    for k in (1, 2, 3, 6):
        sizes, error = takehome.optimal_for_k(z, k)
        reference, reference_error = optimal_schedule(z, k)
        assert np.array_equal(sizes, reference) and sizes.sum() == 6 and len(sizes) == k
        assert error == pytest.approx(reference_error, abs=1e-12)
        assert error == pytest.approx(expected_kl_bruteforce(p, sizes), abs=1e-9)  # CCL Thm 4


@pytest.mark.parametrize("eps", [0.0, 0.05, 0.5, 2.0, 100.0])
def test_optimal_for_eps_takes_the_fewest_steps_that_reach_eps(eps):
    z = curve("markov", 64, stay=0.9)
    sizes, error = takehome.optimal_for_eps(z, eps)
    k = len(sizes)
    assert error <= eps + 1e-12 and error == pytest.approx(expected_kl(z, sizes), abs=1e-12)
    if k > 1:  # one step fewer cannot reach eps
        assert optimal_errors(z, k - 1)[-1] > eps


def test_plan_holds_the_curve_band_and_schedules_and_round_trips(tmp_path):
    z = curve("markov", 32, stay=0.9)
    plan = takehome.schedule_plan(z, ks=[2, 8, 99], eps=[1.0], lower=0.9 * z, upper=1.1 * z, model="m")
    assert [entry["k"] for entry in plan["by_k"]] == [2, 8]  # k > n skipped
    for entry in plan["by_k"] + plan["by_eps"]:
        assert sum(entry["num_transfer_tokens"]) == 32 and entry["steps"] == len(entry["num_transfer_tokens"])
        low, high = entry["expected_kl_band_nats"]
        assert low == pytest.approx(0.9 * entry["expected_kl_nats"]) and high == pytest.approx(1.1 * entry["expected_kl_nats"])
    assert plan["by_eps"][0]["expected_kl_nats"] <= 1.0 and plan["metadata"] == {"model": "m"}
    takehome.write_schedule_plan(plan, tmp_path / "plan.json")
    first = (tmp_path / "plan.json").read_bytes()
    takehome.write_schedule_plan(plan, tmp_path / "plan.json")
    assert (tmp_path / "plan.json").read_bytes() == first
    assert np.array_equal(takehome.read_curve(tmp_path / "plan.json"), z)
    with pytest.raises(ValueError, match="both lower and upper"):
        takehome.schedule_plan(z, ks=[2], lower=z)


def test_read_curve_picks_the_model_rows_of_a_workflow_curve_table(tmp_path):
    z = curve("markov", 8, stay=0.8)
    table = pd.concat([pd.DataFrame({"model": "m", "estimator": name, "a": np.arange(8, 0, -1), "z": values[::-1]})
                       for name, values in (("true", z), ("model", 2 * z))])
    table.to_csv(tmp_path / "curve.csv", index=False)
    assert np.allclose(takehome.read_curve(tmp_path / "curve.csv"), 2 * z)  # sorted by a
    assert np.allclose(takehome.read_curve(tmp_path / "curve.csv", estimator="true"), z)
    with pytest.raises(ValueError, match="no rows of estimator"):
        takehome.read_curve(tmp_path / "curve.csv", estimator="other")
    pd.DataFrame({"z": z[::-1]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match="Z_1 = 0|nondecreasing"):
        takehome.read_curve(tmp_path / "bad.csv")


def test_cli_prints_the_optimal_schedule_of_a_curve(tmp_path, capsys):
    z = curve("markov", 128, stay=0.9)
    pd.DataFrame({"a": np.arange(1, 129), "z": z}).to_csv(tmp_path / "curve.csv", index=False)
    assert cli.main(["schedule", "optimal", "128", "--curve", str(tmp_path / "curve.csv"), "--params", '{"k": 16}']) == 0
    printed = [int(s) for s in capsys.readouterr().out.split()]
    assert printed == optimal_schedule(z, 16)[0].tolist() and sum(printed) == 128
    assert cli.main(["schedule", "optimal", "128", "--curve", str(tmp_path / "curve.csv"),
                     "--params", '{"eps": 1.0}', "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    sizes, error = takehome.optimal_for_eps(z, 1.0)
    assert out["num_transfer_tokens"] == sizes.tolist() and out["expected_kl_nats"] == pytest.approx(error)
    assert out["expected_kl_nats"] <= 1.0
    # TC schedule (CCL Thm 9) with TC read off the curve
    assert cli.main(["schedule", "tc", "128", "--curve", str(tmp_path / "curve.csv"), "--params", '{"eps": 1.0}']) == 0
    assert sum(int(s) for s in capsys.readouterr().out.split()) == 128
    assert cli.main(["schedule", "optimal", "64", "--curve", str(tmp_path / "curve.csv"), "--params", '{"k": 4}']) == 2
    assert "n = 128" in capsys.readouterr().err
