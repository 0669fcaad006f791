"""`kpiwatch parse-target` as a user runs it."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from monitor.cli.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def default_config(tmp_path, monkeypatch):
    """Built-in defaults, whatever config.toml the working directory holds."""
    empty = tmp_path / "defaults.toml"
    empty.write_text("", encoding="utf-8")
    monkeypatch.setenv("KPIWATCH_CONFIG", str(empty))


def run(*args: str, env: dict[str, str] | None = None):
    result = runner.invoke(app, ["parse-target", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_json_is_exactly_the_issue_example():
    out = run("≥3.9万人", "--year", "2024", "--json")
    assert json.loads(out) == {
        "text": "≥3.9万人", "kind": "quantity", "comparator": ">=", "value": "39000", "unit": "人",
        "direction": "higher_is_better", "inferred": [], "occurrences": [], "reason": None,
    }
    assert "≥3.9万人" in out  # Chinese stays readable, not \\u-escaped


def test_recurring_json_lists_the_quarter_ends():
    data = json.loads(run("每季度末", "--year", "2024", "--json"))
    assert data["kind"] == "recurring" and data["direction"] is None
    assert data["occurrences"] == [
        {"start": "2024-01-01", "due": "2024-03-31"}, {"start": "2024-04-01", "due": "2024-06-30"},
        {"start": "2024-07-01", "due": "2024-09-30"}, {"start": "2024-10-01", "due": "2024-12-31"},
    ]


def test_level2_and_name_inform_the_defaults():
    cost = json.loads(run("≥10万", "--year", "2024", "--level2", "成本指标", "--json"))
    assert (cost["value"], cost["unit"], cost["inferred"]) == ("100000", "元", ["unit"])
    pct = json.loads(run("95", "--year", "2024", "--name", "培训合格率(%)", "--json"))
    assert (pct["kind"], pct["comparator"], pct["unit"]) == ("percent", ">=", "%")


def test_readable_line_without_json():
    assert run("2024年5月底前", "--year", "2024").strip() == "「2024年5月底前」→ 截止日期；截止 2024-05-31"
    line = run("90万", "--year", "2024", "--level2", "成本指标")
    assert "≤900000元" in line and "越低越好" in line and "推断：比较符、单位" in line
    assert "原因：占位符" in run("(≥**人)", "--year", "2024")


def test_strict_month_before_comes_from_config_and_flag(tmp_path):
    assert json.loads(run("12月前", "--year", "2024", "--json"))["occurrences"][0]["due"] == "2024-12-31"
    config = tmp_path / "config.toml"
    config.write_text("[targets]\nstrict_month_before = true\n", encoding="utf-8")
    env = {"KPIWATCH_CONFIG": str(config)}

    def due(out: str) -> str:
        return json.loads(out)["occurrences"][0]["due"]

    assert due(run("12月前", "--year", "2024", "--json", env=env)) == "2024-11-30"
    assert due(run("12月前", "--year", "2024", "--json", "--month-end-before", env=env)) == "2024-12-31"
    assert due(run("12月前", "--year", "2024", "--json", "--strict-month-before")) == "2024-11-30"
