"""Excel exports (openpyxl): one streaming writer for every ledger the system hands out.

* Write-only mode: rows go to a temporary file as they come, so memory stays flat however many
  rows a city-wide ledger has; the finished workbook is served from that file.
* Formula-safe: user text is always written as a string cell. Text that starts with "=", "+",
  "-" or "@" is never turned into a formula (openpyxl would otherwise write "=HYPERLINK(...)"
  typed by a member as a live formula).
* Chinese headers, a title row, a frozen header row, column widths, dates as real dates.

The import templates are small ordinary (not write-only) workbooks with merged cells and
drop-downs; they are saved through workbook_bytes(), which applies the same formula rule.
"""
import datetime
import io
import tempfile
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass

from django.http import FileResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

FORMULA_PREFIXES = ("=", "+", "-", "@")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_CELL_CHARS = 32_767  # Excel's limit for one cell


@dataclass(frozen=True)
class Column:
    header: str
    width: float = 12
    kind: str = "text"  # "text", "int", "float", "date", "datetime", "percent"
    wrap: bool = False


_TITLE_FONT = Font(bold=True, size=14)
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")
_FORMATS = {"date": "yyyy\"年\"m\"月\"d\"日\"", "datetime": "yyyy-mm-dd hh:mm", "percent": "0.0\"%\"",
            "float": "0.0", "int": "0"}


def _cell(ws, value, column: Column):
    if value is None or value == "":
        return WriteOnlyCell(ws, value=None)
    if column.kind in ("int", "float", "percent") and isinstance(value, (int, float)):
        cell = WriteOnlyCell(ws, value=value)
    elif column.kind == "date" and isinstance(value, datetime.date):
        cell = WriteOnlyCell(ws, value=value)
    elif column.kind == "datetime" and isinstance(value, datetime.datetime):
        # Excel has no time zones: write the local wall-clock time.
        if value.tzinfo is not None:
            value = timezone.localtime(value).replace(tzinfo=None)
        cell = WriteOnlyCell(ws, value=value)
    else:
        text = str(value)[:MAX_CELL_CHARS]
        cell = WriteOnlyCell(ws, value=text)
        # Assigning a str starting with "=" makes openpyxl type it as a formula; force a string.
        cell.data_type = "s"
        cell.alignment = _WRAP if column.wrap else _TOP
        return cell
    if column.kind in _FORMATS:
        cell.number_format = _FORMATS[column.kind]
    cell.alignment = _TOP
    return cell


def add_sheet(wb: Workbook, *, title: str, subtitle: str = "", columns: list[Column], rows: Iterable[Iterable],
              sheet_name: str = "Sheet1") -> None:
    """Stream `rows` into a new sheet of a write-only workbook: title, optional subtitle, header
    row (frozen), then the rows, each value written as its column's kind."""
    ws = wb.create_sheet(title=sheet_name[:31])
    for i, column in enumerate(columns):
        ws.column_dimensions[_letter(i)].width = column.width
    header_row = 3 if subtitle else 2
    ws.freeze_panes = f"A{header_row + 1}"
    title_cell = WriteOnlyCell(ws, value=title)
    title_cell.data_type = "s"
    title_cell.font = _TITLE_FONT
    ws.append([title_cell])
    if subtitle:
        sub = WriteOnlyCell(ws, value=subtitle)
        sub.data_type = "s"
        ws.append([sub])
    headers = []
    for column in columns:
        cell = WriteOnlyCell(ws, value=column.header)
        cell.data_type = "s"
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        headers.append(cell)
    ws.append(headers)
    for row in rows:
        ws.append([_cell(ws, value, column) for value, column in zip(row, columns, strict=False)])


def new_workbook() -> Workbook:
    return Workbook(write_only=True)


def save_workbook(wb: Workbook) -> tempfile.SpooledTemporaryFile:
    """The finished workbook as an open file positioned at the start."""
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    wb.save(out)
    out.seek(0)
    return out


def write_xlsx(*, title: str, subtitle: str = "", columns: list[Column], rows: Iterable[Iterable],
               sheet_name: str = "Sheet1") -> tempfile.SpooledTemporaryFile:
    """A one-sheet workbook (see add_sheet); returns the open file positioned at the start."""
    wb = new_workbook()
    add_sheet(wb, title=title, subtitle=subtitle, columns=columns, rows=rows, sheet_name=sheet_name)
    return save_workbook(wb)


def workbook_bytes(wb: Workbook) -> bytes:
    """An ordinary (not write-only) workbook as bytes, every cell that openpyxl typed as a formula
    (any str starting with "=", such as an organisation named "=1+1") written as text instead.
    The system's workbooks carry no formulas of their own (drop-down lists are data validations)."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _letter(index: int) -> str:
    return get_column_letter(index + 1)


def xlsx_response(handle, filename: str) -> FileResponse:
    """Serve a workbook as a download with a Chinese file name (RFC 6266 / 5987)."""
    response = FileResponse(handle, content_type=XLSX_TYPE)
    ascii_name = "export.xlsx"
    response["Content-Disposition"] = (f'attachment; filename="{ascii_name}"; '
                                       f"filename*=UTF-8''{urllib.parse.quote(filename)}")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
