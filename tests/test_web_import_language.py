"""The upload page says its preview and its refusals in the page's language only: on an English page no Chinese
outside the document's own words (names, cells, header words, the file's name, quoted 「…」 or “…”), on a Chinese
page no English words but formats and codes. Every real layout the importer reads is previewed, and the refusals
a bureau meets first: a bad year, a cut-off table, an amount without a unit, a scanned PDF, an empty file, a
budget PDF without target tables, a template with cell problems."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from monitor.importers.output import document_json, parse_any
from tests.conftest import ROOT
from tests.page_walk import read_page
from tests.test_import_excel import GOOD_INDICATORS, GOOD_PROJECT, _filled
from tests.test_import_never_silent import _table
from tests.test_one_language import CJK, EVERY_LANGUAGE, WORD
from tests.test_web_import import LAYOUTS, PIPES, _admin, _preview

QUOTED = re.compile(r"「[^」]*」|“[^”]*”")
# what a person types or reads as a code in either language: command options, file suffixes, encodings, tools
CODES = re.compile(r"--[a-z][a-z-]*|\.[a-z]{3,4}\b|\b(?:OCR|TAB|UTF-8|UTF-16|GB18030|pdftotext)\b")
REASONS = {"reason", "reason_en", "warnings"}  # the importer's words, not the document's


def _documents_words(value: object, key: str = "") -> set[str]:
    """Every text of a dry run's JSON that the document wrote (names, cells, units), not the importer's reasons."""
    if key in REASONS:
        return set()
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(_documents_words(v, k) for k, v in value.items()))
    if isinstance(value, list):
        return set().union(*(_documents_words(v, key) for v in value))
    return set()


def _foreign(html: str, lang: str, words: set[str]) -> list[str]:
    """The page's texts that still hold the other language once the document's words and codes are taken out."""
    page = read_page(html)
    assert page.lang.startswith(lang)
    known = sorted((w for w in words | set(EVERY_LANGUAGE) if w), key=len, reverse=True)
    wrong = CJK if lang == "en" else WORD
    left = []
    for text in page.texts:
        bare = QUOTED.sub(" ", text)
        for word in known:
            bare = bare.replace(word, " ")
        if wrong.search(CODES.sub(" ", bare)):
            left.append(text)
    return left


def _in(client, lang: str):
    client.get(f"/account?lang={lang}")
    return client


def _layouts() -> list[Path]:
    return sorted(LAYOUTS.glob("*.txt"))


def _previews(engine, lang: str) -> dict[str, list[str]]:
    client = _in(_admin(engine), lang)
    found = {}
    for path in _layouts():
        doc = parse_any(path, allow_partial=True)
        identity = {"department_code": "" if doc.department_code else "999", "year": "" if doc.year else "2024"}
        page = _preview(client, path.name, path.read_bytes(), allow_partial="1", **identity)
        assert page.status_code == 200, (path.name, page.text[-2000:])
        found[path.name] = _foreign(page.text, lang, _documents_words(document_json(doc)) | {path.name})
    return found


def test_an_english_preview_of_every_real_layout_has_no_chinese_but_the_documents_words(engine):
    previews = _previews(engine, "en")
    assert len(previews) == len(_layouts()) >= 7
    assert {name: left for name, left in previews.items() if left} == {}


def test_a_chinese_preview_of_every_real_layout_has_no_english_words(engine):
    previews = _previews(engine, "zh")
    assert {name: left for name, left in previews.items() if left} == {}


def _scanned(tmp_path) -> bytes:
    from PIL import Image

    path = tmp_path / "scan.pdf"
    Image.new("RGB", (600, 800), "white").save(path)
    return path.read_bytes()


def _refusals(tmp_path) -> list[tuple[str, bytes, dict[str, str]]]:
    """(file name, bytes, form) of each refusal tried; the document's words in them are quoted 「…」."""
    problems = _filled(tmp_path, [{**GOOD_PROJECT, "年度资金总额（元）": "二十万"}],
                       [*GOOD_INDICATORS, {**GOOD_INDICATORS[0], "项目标识": "不存在的项目"}])
    return [
        ("年度.txt", PIPES.read_bytes(), {"year": "20x4"}),
        ("马踏镇.txt", PIPES.read_bytes(), {}),
        ("nounit.txt", _table(funds_label="项目资金", annual="20").encode(), {}),
        ("扫描件.pdf", _scanned(tmp_path), {}),
        ("空.txt", b"", {}),
        ("budget.pdf", (LAYOUTS / "pdf" / "shanghai_putuo_wanli_2025_dept_budget.pdf").read_bytes(), {}),
        ("filled.xlsx", problems.read_bytes(), {}),
    ]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_refusal_reads_in_the_pages_language_naming_the_file(engine, tmp_path, lang):
    client = _in(_admin(engine), lang)
    wrong = {}
    for name, data, form in _refusals(tmp_path):
        page = _preview(client, name, data, **form)
        assert page.status_code == 422, (name, page.status_code)
        assert name in page.text
        left = _foreign(page.text, lang, {name})
        if left:
            wrong[name] = left
    assert wrong == {}


def test_an_english_refusal_says_the_line_and_field_in_english(engine):
    page = _preview(_in(_admin(engine), "en"), "马踏镇.txt", PIPES.read_bytes())
    assert "马踏镇.txt line 17 field 「指标值」: the target table is cut off at line 17" in page.text
    assert "第17行" not in page.text


def test_a_damaged_pdf_is_refused_in_english_naming_what_broke_by_its_class(engine):
    page = _preview(_in(_admin(engine), "en"), "损坏.pdf", b"%PDF-1.4\nnot really a PDF\n")
    assert page.status_code == 422
    assert re.search(r"损坏\.pdf: the PDF is damaged and cannot be read \(\w+\)", page.text), page.text[-1500:]


def test_a_template_refusal_lists_each_cells_problem_in_english(engine, tmp_path):
    problems = _filled(tmp_path, [{**GOOD_PROJECT, "年度资金总额（元）": "二十万"}], GOOD_INDICATORS)
    page = _preview(_in(_admin(engine), "en"), "filled.xlsx", problems.read_bytes())
    assert "sheet 「项目」 row 2 column 「年度资金总额（元）」: 「二十万」 is not an amount (元)" in page.text


def _raises_of_import_failure() -> list[tuple[str, int, bool]]:
    """(file, line, whether it gives `en=`) of every ImportFailure(...) made in the application."""
    found = []
    for path in sorted((ROOT / "monitor").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ImportFailure":
                found.append((str(path.relative_to(ROOT)), node.lineno, any(k.arg == "en" for k in node.keywords)))
    return found


def test_every_import_refusal_is_written_with_its_english():
    raises = _raises_of_import_failure()
    assert len(raises) > 40
    assert [(file, line) for file, line, english in raises if not english] == []


def test_a_target_that_looks_mistyped_is_flagged_in_english_with_its_figure(engine):
    rows = ("\t产出指标\t质量指标\t验收合格率\t≥292%\t质量指标\t验收合格率\t≥292%\n"
            "满意度指标\t服务对象满意度指标\t学员满意度\t≥90%\t服务对象满意度指标\t学员满意度\t≥90%\n")
    page = _preview(_in(_admin(engine), "en"), "rate.txt", _table(indicators=rows).encode())
    assert page.status_code == 200, page.text
    assert "Targets that look mistyped (please check)" in page.text
    assert "「验收合格率」 “≥292%”: a rate&#39;s target above 100% (292%): please check" in page.text


def test_a_confirmation_whose_upload_is_gone_says_so_in_english(engine):
    client = _in(_admin(engine), "en")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/import").text).group(1)
    page = client.post("/admin/import", data={"csrf_token": token, "sha": "0" * 64, "filename": "gone.txt"})
    assert page.status_code == 410
    assert "gone.txt: The previewed file is no longer on the server; upload it again" in page.text


def _constant_reasons() -> set[str]:
    """Every reason the importer writes as a constant: of a repair, a rejected row, a reconciliation item, an
    incomplete table, a row's problem, a split of a glued cell."""
    chinese = re.compile(r"[\u4e00-\u9fff]")

    def text(node: ast.AST | None) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and chinese.search(node.value):
            return node.value
        return None

    found: set[str] = set()
    for path in sorted((ROOT / "monitor" / "importers").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            called = getattr(node.func, "id", None) if isinstance(node, ast.Call) else None
            if isinstance(node, ast.Call) and called in ("Repair", "Rejected"):
                at = 5 if called == "Repair" else 2  # the reason's place among the arguments
                found |= {t for t in [text(node.args[at]) if len(node.args) > at else None] if t}
                found |= {t for k in node.keywords if k.arg in ("reason", "problem") and (t := text(k.value))}
            elif isinstance(node, ast.Call):
                found |= {t for k in node.keywords if k.arg == "problem" and (t := text(k.value))}
            elif isinstance(node, ast.Dict):
                found |= {t for k, v in zip(node.keys, node.values, strict=True)
                          if isinstance(k, ast.Constant) and k.value == "reason" and (t := text(v))}
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                name = getattr(node.targets[0], "attr", None) or getattr(node.targets[0], "id", None)
                if name in ("reason", "problem", "CUT_OFF") and (t := text(node.value)):
                    found.add(t)
            elif isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and len(node.value.elts) == 3:
                found |= {t for t in [text(node.value.elts[2])] if t}
    return found


def test_every_constant_reason_of_the_importer_has_its_english_in_the_catalogue():
    from monitor.web.i18n import EN

    reasons = _constant_reasons()
    assert len(reasons) > 25
    assert sorted(reason for reason in reasons if reason not in EN) == []
