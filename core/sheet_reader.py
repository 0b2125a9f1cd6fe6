"""Reading one worksheet of an uploaded .xlsx as other systems write them, in one pass.

openpyxl offers either the formulas (data_only=False) or their cached results (data_only=True),
and its read-only mode forgets merged cells and number formats. Reading a 10,000-row roster twice
would double the import's slowest step, so the sheet is read once with openpyxl's own sheet parser
(the one its read-only worksheets use), asked for cached values and told to keep, per cell:

* whether it holds a formula, and whether the formula has a cached result (a file written by a
  program that never calculated has none — no <v>, or an empty one: its value is unknown, not
  empty);
* whether its number format shows a date to the month only (yyyy"年"m"月", yyyy.mm, mmm-yy …),
  including the Chinese built-in formats (27, 36, 50, 52, 57) openpyxl does not know as dates,
  whose values would otherwise arrive as bare serial numbers.

Merged ranges are at the end of the sheet's XML; they are known once the rows have been read.

This leans on openpyxl internals (WorkSheetParser, the workbook's style tables, the read-only
worksheet's path and shared strings), pinned by uv.lock and covered by tests/orgs/test_roster_*.
"""
import datetime
import re
from dataclasses import dataclass, field

from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_to_tuple, range_boundaries
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet._reader import FORMULA_TAG, INLINE_STRING, VALUE_TAG, WorkSheetParser
from openpyxl.xml.constants import SHEET_MAIN_NS

# The zh-CN built-in number formats of ECMA-376 (18.8.30), which openpyxl leaves unnamed.
CJK_MONTH_FORMATS = {27, 36, 50, 52, 57}            # yyyy"年"m"月"
CJK_DAY_FORMATS = {28, 29, 31, 51, 53, 54, 58}       # yyyy"年"m"月"d"日", m"月"d"日"
_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')
_TEXT = f"{{{SHEET_MAIN_NS}}}t"
_RUN = f"{{{SHEET_MAIN_NS}}}r"


class MonthDate(datetime.datetime):
    """A date cell whose number format shows only the year and month: its day was never given."""


def month_only_format(code: str | None) -> bool:
    """True for a date format showing year and month but no day or time (yyyy.mm, mmm-yy)."""
    if not code:
        return False
    text = _LITERALS.sub("", code.split(";")[0]).lower()
    return "y" in text and "m" in text and not re.search(r"[dhs]", text)


@dataclass
class Cell:
    """What a formula cell of the sheet held: the cached result, if the file kept one."""

    ref: str
    cached: bool


@dataclass
class Sheet:
    """One worksheet: rows as lists of cell values (cached results for formulas), and after the
    last row, its formula cells and merged ranges."""

    title: str
    formulas: dict[tuple[int, int], Cell] = field(default_factory=dict)   # (row, column) → cell
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # min_col, min_row, max_col, max_row


class _Parser(WorkSheetParser):
    def __init__(self, *args, month_styles=frozenset(), serial_styles=frozenset(), sheet: Sheet, **kwargs):
        super().__init__(*args, **kwargs)
        self.month_styles, self.serial_styles, self.sheet = month_styles, serial_styles, sheet

    def parse_cell(self, element):
        if element.get("t") == "inlineStr":
            cell = self._inline(element)
        else:
            cell = super().parse_cell(element)
        style, value = cell["style_id"], cell["value"]
        if style in self.serial_styles and isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                value = cell["value"] = from_excel(value, self.epoch)
            except (OverflowError, ValueError):
                pass
        if style in self.month_styles and isinstance(value, datetime.datetime):
            cell["value"] = MonthDate(value.year, value.month, value.day)
        if element.find(FORMULA_TAG) is not None:
            # No result: no <v>, or an empty <v/> (as openpyxl writes); an empty text result is
            # an empty <v> in a cell typed t="str".
            cached = element.find(VALUE_TAG)
            has_result = cached is not None and (bool(cached.text) or element.get("t") == "str")
            ref = f"{get_column_letter(cell['column'])}{cell['row']}"
            self.sheet.formulas[(cell["row"], cell["column"])] = Cell(ref, has_result)
        return cell


    def _inline(self, element) -> dict:
        """An inline-string cell (as openpyxl and many exporters write text): its plain text.
        openpyxl builds a rich-text object per cell for this, three times the cost of the rest of
        the cell; the text is the <t> of the <is>, or of its runs (phonetic guides left out)."""
        coordinate = element.get("r")
        if coordinate:
            row, column = coordinate_to_tuple(coordinate)
            self.col_counter = column
        else:
            self.col_counter += 1
            row, column = self.row_counter, self.col_counter
        style_id = int(element.get("s", 0))
        value = None
        child = element.find(INLINE_STRING)
        if child is not None:
            plain = child.find(_TEXT)
            parts = [plain.text or ""] if plain is not None else []
            parts += [run.findtext(_TEXT) or "" for run in child.findall(_RUN)]
            value = "".join(parts)
        return {"row": row, "column": column, "value": value, "data_type": "s", "style_id": style_id}


def _style_sets(workbook) -> tuple[frozenset, frozenset]:
    """Style ids whose dates show only year and month; style ids whose serials are dates that
    openpyxl would leave as numbers (the Chinese built-ins)."""
    month, serial = set(), set()
    custom = getattr(workbook, "_number_formats", [])
    date_styles = getattr(workbook, "_date_formats", set())
    for index, style in enumerate(getattr(workbook, "_cell_styles", [])):
        fmt_id = style.numFmtId
        if fmt_id in CJK_MONTH_FORMATS:
            month.add(index)
            serial.add(index)
        elif fmt_id in CJK_DAY_FORMATS:
            serial.add(index)
        elif index in date_styles:
            code = BUILTIN_FORMATS.get(fmt_id) if fmt_id < BUILTIN_FORMATS_MAX_SIZE else \
                custom[fmt_id - BUILTIN_FORMATS_MAX_SIZE]
            if month_only_format(code):
                month.add(index)
    return frozenset(month), frozenset(serial)


def read_rows(workbook, worksheet, sheet: Sheet):
    """Yield (row number, [values]) for every non-empty row of a read-only worksheet; once the
    last row has been yielded, `sheet` holds the formula cells and the merged ranges."""
    month_styles, serial_styles = _style_sets(workbook)
    with workbook._archive.open(worksheet._worksheet_path) as source:
        parser = _Parser(source, worksheet._shared_strings, data_only=True, epoch=workbook.epoch,
                         date_formats=workbook._date_formats, timedelta_formats=workbook._timedelta_formats,
                         month_styles=month_styles, serial_styles=serial_styles, sheet=sheet)
        for number, cells in parser.parse():
            if not cells:
                continue
            width = max(c["column"] for c in cells)
            values = [None] * width
            empty = True
            for c in cells:
                value = c["value"]
                values[c["column"] - 1] = value
                if value is not None and value != "":
                    empty = False
            if not empty:
                yield number, values
        if parser.merged_cells is not None:
            sheet.merges = [range_boundaries(m.coord) for m in parser.merged_cells.mergeCell]
