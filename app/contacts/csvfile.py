"""Reading call-list CSV files as people export them, and writing CSV that spreadsheets cannot execute.

Pure (no Flask, no database). The encoding and delimiter are decided from the file's head, then the
file is streamed record by record: memory stays flat whatever its size.
"""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

HEAD_BYTES = 64 * 1024
SNIFF_CHARS = 16 * 1024
MAX_COLUMNS = 100
# Rows after the header scanned (at upload) for a first non-empty one before calling the file header-only.
ROWS_SCANNED_FOR_DATA = 10_000
DELIMITERS = (",", ";", "\t", "|")

PHONE_HEADERS = {
    "手机", "手机号", "手机号码", "电话", "电话号码", "联系电话", "联系方式", "号码", "移动电话", "客户电话",
    "客户手机",
    "phone", "phonenumber", "phoneno", "mobile", "mobilephone", "mobilenumber", "cell", "cellphone", "tel",
    "telephone",
}
NAME_HEADERS = {
    "姓名", "名字", "客户姓名", "客户名称", "客户名", "客户", "联系人", "称呼",
    "name", "fullname", "customer", "customername", "contact", "contactname",
}
NOTE_HEADERS = {"备注", "说明", "备注信息", "附注", "note", "notes", "remark", "remarks", "comment", "comments", "memo"}

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_HEADER_NOISE = re.compile(r"[\s_\-*:：]+|[(（][^)）]*[)）]")


class CsvProblem(Exception):
    """The file cannot be imported at all; `code` names why, `detail` carries what to tell the person."""

    def __init__(self, code: str, **detail):
        super().__init__(code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Layout:
    """How to read one file: its encoding, delimiter and which column holds what."""

    encoding: str
    delimiter: str
    header: list[str]
    phone_index: int
    name_index: int | None = None
    note_index: int | None = None
    extra: list[tuple[int, str]] = field(default_factory=list)  # (column index, label) of the other columns


def defuse(cell: str) -> str:
    """A cell a spreadsheet would run as a formula (= + - @ tab CR first) gets a leading apostrophe."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def header_key(label: str) -> str:
    """'  手机号码（必填）* ' -> '手机号码'; 'Mobile Number' -> 'mobilenumber'."""
    text = unicodedata.normalize("NFKC", label or "").replace("\ufeff", "").strip().lower()
    return _HEADER_NOISE.sub("", text)


def detect_encoding(head: bytes, *, whole_file: bool) -> str:
    """BOM first (UTF-8, UTF-16); else strict UTF-8 over the head; else GB18030 (a superset of GBK)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)("strict").decode(head, final=whole_file)
            return encoding
        except UnicodeDecodeError:
            continue
    raise CsvProblem("encoding")


def _refuse_binary(head: bytes) -> None:
    if head.startswith(b"PK\x03\x04"):
        raise CsvProblem("xlsx")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise CsvProblem("xls")
    if head.startswith(b"%PDF"):
        raise CsvProblem("not_text")
    wide = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))  # UTF-16/32 text is full of NUL bytes
    if b"\x00" in head and not wide:
        raise CsvProblem("not_text")


def _decoded_head(head: bytes, encoding: str, *, whole_file: bool) -> str:
    text = codecs.getincrementaldecoder(encoding)("replace").decode(head, final=whole_file)
    if not whole_file and "\n" in text:
        text = text[: text.rfind("\n") + 1]  # whole lines only
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n\x1a")
    if "\x00" in text or controls > max(2, len(text) // 200):
        raise CsvProblem("not_text")
    if text.count("\ufffd") > max(2, len(text) // 200):
        raise CsvProblem("encoding")
    return text


def _candidate_delimiters(sample: str) -> list[str]:
    ordered: list[str] = []
    try:
        ordered.append(csv.Sniffer().sniff(sample[:SNIFF_CHARS], delimiters="".join(DELIMITERS)).delimiter)
    except csv.Error:
        pass
    first_line = sample.split("\n", 1)[0]
    ordered += sorted(DELIMITERS, key=lambda d: -first_line.count(d))
    return list(dict.fromkeys(ordered))


def _map_columns(header: list[str]) -> dict:
    """Which column is the phone, the name, the note; the rest are extra fields. Raises on ambiguity."""
    found: dict[str, list[int]] = {"phone": [], "name": [], "note": []}
    for index, label in enumerate(header):
        key = header_key(label)
        if key in PHONE_HEADERS:
            found["phone"].append(index)
        elif key in NAME_HEADERS:
            found["name"].append(index)
        elif key in NOTE_HEADERS:
            found["note"].append(index)
    return found


def _labels(header: list[str]) -> list[str]:
    """Display labels for the header: trimmed, empty ones numbered, repeated ones suffixed."""
    seen: dict[str, int] = {}
    labels = []
    for index, raw in enumerate(header):
        label = " ".join(unicodedata.normalize("NFKC", raw).replace("\ufeff", "").split())[:60] or f"#{index + 1}"
        seen[label] = seen.get(label, 0) + 1
        labels.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return labels


def open_text(path: Path | str, encoding: str) -> TextIO:
    """The file as text; undecodable bytes become U+FFFD so that only their row is rejected."""
    return open(path, encoding=encoding, errors="replace", newline="")


def inspect(path: Path | str) -> Layout:
    """Decide how to read a file from its head and header row; raise CsvProblem if it cannot be a call list."""
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
    if not head.strip():
        raise CsvProblem("empty")
    _refuse_binary(head)
    whole_file = size <= HEAD_BYTES
    encoding = detect_encoding(head, whole_file=whole_file)
    sample = _decoded_head(head, encoding, whole_file=whole_file)
    best_header: list[str] | None = None
    for delimiter in _candidate_delimiters(sample):
        with open_text(path, encoding) as text:
            reader = csv.reader(text, delimiter=delimiter)
            try:
                header = next(reader, [])
            except csv.Error:
                raise CsvProblem("not_text") from None
            columns = _map_columns(header)
            if best_header is None:
                best_header = header
            if not columns["phone"]:
                continue
            if len(header) > MAX_COLUMNS:
                raise CsvProblem("too_many_columns", limit=MAX_COLUMNS)
            labels = _labels(header)
            for role in ("phone", "name", "note"):
                if len(columns[role]) > 1:
                    raise CsvProblem("duplicate_column", role=role,
                                     columns=", ".join(labels[i] for i in columns[role]))
            if not _has_data_row(reader):
                raise CsvProblem("no_rows")
            known = {columns["phone"][0], *columns["name"], *columns["note"]}
            return Layout(
                encoding=encoding, delimiter=delimiter, header=labels, phone_index=columns["phone"][0],
                name_index=columns["name"][0] if columns["name"] else None,
                note_index=columns["note"][0] if columns["note"] else None,
                extra=[(i, labels[i]) for i in range(len(header)) if i not in known],
            )
    if not best_header or not any(cell.strip() for cell in best_header):
        raise CsvProblem("no_header")
    raise CsvProblem("no_phone_column", found=", ".join(_labels(best_header)[:12]))


def _has_data_row(reader) -> bool:
    for _ in range(ROWS_SCANNED_FOR_DATA):
        try:
            row = next(reader)
        except StopIteration:
            return False
        except csv.Error:
            return True  # a broken row is still a row: the importer reports it
        if any(cell.strip() for cell in row):
            return True
    return True  # thousands of blank rows: let the importer count them


@dataclass(frozen=True)
class Record:
    """One CSV record after the header. `row` is its row number as a spreadsheet shows it (header = 1)."""

    row: int
    cells: list[str] | None
    error: str | None = None

    @property
    def blank(self) -> bool:
        return self.cells is not None and not any(cell.strip() for cell in self.cells)


def records(text: TextIO, layout: Layout) -> Iterator[Record]:
    """Every record after the header, in order, including blank and unreadable ones (nothing is skipped)."""
    reader = csv.reader(text, delimiter=layout.delimiter)
    try:
        next(reader)
    except (StopIteration, csv.Error):
        return
    row = 1
    while True:
        row += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Record(row, None, str(exc))
            continue
        yield Record(row, cells)
