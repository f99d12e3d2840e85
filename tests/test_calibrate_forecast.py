"""``callsim compare --forecast``: each day predicted as a planner would, without its own
calls, talk or staffing, with prediction intervals from the calibration days' spread."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from callsim.calibrate.compare import _quantile
from callsim.calibrate.forecast import available
from tests.test_calibrate import JANUARY, OCTOBER
from tests.test_cli import run

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "scenarios" / "bank-january.yaml"


def test_available_keeps_the_mean_and_varies() -> None:
    at_work = np.array([0.0, 0.4, 3.0, 7.5, 10.0, 10.0])
    factor = np.array([0.8, 0.8, 1.0, 0.7, 1.2, 0.5])
    draws = np.random.default_rng(1)
    got = np.array([available(at_work, factor, draws) for _ in range(4000)])
    assert got[:, 0].max() == 0  # nobody at work: nobody available
    assert (got[:, 2] == 3).all()  # a factor of 1 with whole agents: all of them
    assert got[:, 1].max() <= 1
    assert got[:, 3].max() <= 8
    np.testing.assert_allclose(got.mean(axis=0), at_work * factor, atol=0.06)
    assert got[:, 5].std() == pytest.approx(np.sqrt(10 * 0.5 * 0.5), rel=0.08)  # binomial
    same = np.random.default_rng(1)
    assert (available(at_work, factor, same) == got[0]).all()  # reproducible by seed


def test_forecast_predicts_every_day_alike(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(
        capsys, "compare", str(OCTOBER), str(SHIPPED), "--forecast", "--calibration-log",
        str(JANUARY), "--days", "1999-10-03..1999-10-05", "-n", "6", "--workers", "1",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads(out)
    fc = doc["forecast"]
    assert fc["calibration_log"] == str(JANUARY)
    assert len(fc["calibration_days"]) == 19
    assert 0.05 < fc["cv"]["volume"] < 0.5
    assert 0 < fc["cv"]["talk"] < 0.3
    days = doc["per_day"]
    assert [d["day"] for d in days] == ["1999-10-03", "1999-10-04", "1999-10-05"]
    for m in ("abandon_rate", "asa_s", "service_level"):
        # the forecast cannot know a day: every day gets the same prediction and band
        assert len({(d[m]["predicted"], tuple(d[m]["band"])) for d in days}) == 1
        assert len({d[m]["erlang_a"] for d in days}) == 1
        assert len({d[m]["observed"] for d in days}) == 3
        lo, hi = days[0][m]["band"]
        assert lo < days[0][m]["predicted"] < hi
        s = doc["summary"][m]
        share = sum(lo - 1e-9 <= d[m]["observed"] <= hi + 1e-9 for d in days) / 3
        assert s["days_in_band"] == pytest.approx(share)


def test_forecast_mistakes_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "compare", str(OCTOBER), str(SHIPPED), "--forecast", "--calibration-log",
        str(OCTOBER), "--days", "1999-10-03", "-n", "2",
    )  # fmt: skip
    assert code == 2
    assert "--calibration-log: " in err
    assert "has 0 of the 19 days the scenario was calibrated on" in err
    assert "Traceback" not in err
    code, _, err = run(
        capsys, "compare", str(OCTOBER), str(SHIPPED), "--calibration-log", str(JANUARY)
    )
    assert code == 2
    assert "--calibration-log: only with --forecast" in err


def test_the_band_is_a_90_percent_prediction_interval() -> None:
    """A day drawn like the 20 simulated ones falls inside their 5-95 % band nine times
    in ten (the plain sample quantiles of 20 days held it 81 % of the time)."""
    rng = np.random.default_rng(3)
    trials = 20_000
    inside = 0
    for _ in range(trials):
        days = rng.gamma(4.0, size=21)  # skewed, as a day's abandonment is
        lo, hi = _quantile(days[:20], 0.05), _quantile(days[:20], 0.95)
        inside += lo <= days[20] <= hi
    assert inside / trials == pytest.approx(0.90, abs=0.01)
    assert math.isnan(_quantile(np.array([np.nan, np.nan]), 0.05))
    assert _quantile(np.array([1.0, np.nan, 3.0]), 0.95) == 3.0
