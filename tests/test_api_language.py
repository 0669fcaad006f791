"""The API refuses in the request's language: Chinese by default, English when the request prefers it."""

from __future__ import annotations

from tests.test_api_progress import _auth, _token
from tests.test_progress_world import build_world
from tests.test_web_portal import make_client


def test_a_bad_number_is_refused_in_chinese_by_default_and_in_english_on_request(engine):
    world = build_world(engine)
    client = make_client(engine)
    headers = _auth(_token(engine, "clerk_hr"))
    bad = {"indicator_id": world.ind["count"], "value": "lots", "as_of": "2024-07-31"}
    chinese = client.post("/api/v1/reports", headers=headers, json=bad).json()["detail"]
    english = client.post("/api/v1/reports", headers=headers | {"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"},
                          json=bad).json()["detail"]
    assert (chinese["message"], chinese["problems"][0]["label"], chinese["problems"][0]["problem"]) == (
        "未保存任何内容", "数值", "应为数字")
    assert (english["message"], english["problems"][0]["label"]) == ("Nothing stored", "Value")
    assert "valid decimal" in english["problems"][0]["problem"]


def test_a_refusal_from_the_rules_speaks_one_language(engine):
    world = build_world(engine)
    client = make_client(engine)
    headers = _auth(_token(engine, "clerk_hr"))
    negative = {"indicator_id": world.ind["count"], "value": "-5", "as_of": "2024-07-31"}
    chinese = client.post("/api/v1/reports", headers=headers, json=negative).json()["detail"]
    english = client.post("/api/v1/reports?lang=en", headers=headers, json=negative).json()["detail"]
    assert chinese["problems"][0]["problem"] == "-5 为负数，完成值不能小于 0"
    assert english["problems"][0]["problem"] == "Must not be negative"
