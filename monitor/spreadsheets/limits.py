"""Bounds on what a workbook or CSV may cost before anything reads it.

An .xlsx is a zip: 199 KB on the wire can declare a 200 MB cell, and openpyxl would build it in memory. So the
zip's own directory (the sizes every member declares) is checked first, then rows and cells while streaming. Every
refusal names the limit, and echoes at most a short prefix of the value that broke it.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

PREFIX = 40


@dataclass(frozen=True)
class Limits:
    """The `[limits]` section: sizes of one upload or imported file (defaults are generous for real tables)."""

    upload_bytes: int = 10 * 1024 * 1024
    unzipped_bytes: int = 100 * 1024 * 1024
    rows: int = 100_000
    cell_chars: int = 10_000


def mb(count: int) -> str:
    """A size as people read it: whole MB when it is whole MB, else bytes."""
    return f"{count // 2**20} MB" if count % 2**20 == 0 else f"{count} bytes"


def too_big(data: bytes, limits: Limits) -> str | None:
    """Why a file is refused before it is opened, or None."""
    if len(data) > limits.upload_bytes:
        return f"文件超过 {mb(limits.upload_bytes)} (file larger than the {mb(limits.upload_bytes)} limit)"
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            declared = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile:
        return None  # the reader says what is wrong with it
    if declared > limits.unzipped_bytes:
        return (f"解压后超过 {mb(limits.unzipped_bytes)}（声明 {mb(declared)}）"
                f"(unzips past the {mb(limits.unzipped_bytes)} limit)")
    return None


def too_many_rows(count: int, limits: Limits) -> str | None:
    if count > limits.rows:
        return f"超过 {limits.rows} 行 (more than the {limits.rows}-row limit)"
    return None


def too_long(value: object, limits: Limits) -> str | None:
    """Why a cell is refused, quoting only its first characters, or None."""
    if isinstance(value, str) and len(value) > limits.cell_chars:
        return (f"单元格超过 {limits.cell_chars} 字（{len(value)} 字，开头为“{value[:PREFIX]}…”）"
                f"(cell longer than the {limits.cell_chars}-character limit)")
    return None
