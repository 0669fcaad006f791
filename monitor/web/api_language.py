"""The API answers in the request's language: Chinese unless the request asks for English (`?lang=en`, the
portal's `lang` cookie, or an `Accept-Language` that prefers English to Chinese).

Refusals raised below the web layer carry both languages ("中文 (english)", see `monitor.web.i18n`); FastAPI's
own validation errors are English, so they are said again here by their error type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request

from monitor.web.i18n import LANG_COOKIE, LANGS, one_language

# pydantic's error types as a person filling in a report would read them; the English is pydantic's own.
PYDANTIC_ZH: dict[str, str] = {
    "missing": "必填", "decimal_parsing": "应为数字", "decimal_type": "应为数字", "float_parsing": "应为数字",
    "float_type": "应为数字", "int_parsing": "应为整数", "int_type": "应为整数", "int_from_float": "应为整数",
    "date_parsing": "应为日期（YYYY-MM-DD）", "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_type": "应为日期（YYYY-MM-DD）", "date_from_datetime_inexact": "应为日期，不含时刻",
    "string_type": "应为文字", "string_too_long": "文字过长", "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false", "dict_type": "应为对象", "list_type": "应为列表", "model_type": "应为对象",
    "model_attributes_type": "应为对象", "json_invalid": "不是有效的 JSON", "json_type": "不是有效的 JSON",
    "extra_forbidden": "不认识的字段", "decimal_max_digits": "位数过多", "decimal_max_places": "小数位过多",
    "decimal_whole_digits": "整数位过多", "finite_number": "应为有限数字", "greater_than": "过小",
    "greater_than_equal": "过小", "less_than": "过大", "less_than_equal": "过大", "too_long": "条目过多",
    "too_short": "条目过少", "union_tag_invalid": "类型不对", "value_error": "取值无效",
}
UNKNOWN_ZH = "取值无效"


def api_lang(request: Request) -> str:
    """The language of this API request's answer: query, cookie, then Accept-Language; Chinese by default."""
    wanted = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if wanted in LANGS:
        return wanted
    for part in (request.headers.get("accept-language") or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "zh"


def validation_message(error: Mapping[str, Any], lang: str) -> str:
    """One of FastAPI's validation errors in `lang`."""
    if lang == "en":
        return str(error.get("msg", ""))
    return PYDANTIC_ZH.get(str(error.get("type", "")), UNKNOWN_ZH)


def in_language(detail: Any, lang: str) -> Any:
    """An answer's `detail` (text, or the refusal shape with message and problems) in `lang` throughout."""
    if isinstance(detail, str):
        return one_language(detail, lang)
    if isinstance(detail, list):
        return [in_language(item, lang) for item in detail]
    if isinstance(detail, dict):
        return {key: in_language(value, lang) if key in ("message", "problem", "label", "detail") or
                isinstance(value, (dict, list)) else value for key, value in detail.items()}
    return detail
