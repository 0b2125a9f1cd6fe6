"""The difference between two frozen versions of a commitment (what 审诺 compares, and the version
history shows): the goal and the items, matched by their stable ids, down to the characters.
"""
import datetime
from dataclasses import dataclass, field
from difflib import SequenceMatcher


def parse_date(value) -> datetime.date | None:
    """A snapshot's ISO date string as a date (None when empty or malformed)."""
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


# --- the diff between two versions -----------------------------------------------------------
#
# Contract (templates/commitments/partials/diff.html renders it; the version-history page reuses both):
#
#   VersionDiff
#     has_previous: bool            False when there is nothing to compare with (first version)
#     changed: bool                 anything at all differs
#     goal: FieldDiff               the goal text
#     items: list[ItemDiff]         current items in order, each removed item placed where it stood
#     added / removed / changed_items / unchanged: int   counts for a summary line
#
#   ItemDiff
#     id                            the stable item id (snapshot["items"][i]["id"])
#     status: "added" | "removed" | "changed" | "unchanged"
#     number: int | None            1-based position in the current version (None when removed)
#     old_number: int | None        1-based position in the previous version (None when added)
#     moved: bool                   its place in the order changed
#     fields: list[FieldDiff]       every compared field, in form order
#
#   FieldDiff
#     key, label                    e.g. "content", "承诺内容"
#     old, new: str                 display values (deadlines as 2010年12月31日)
#     changed: bool
#     segments: list[Segment]       old and new interleaved: op is "equal", "insert" or "delete";
#                                   joining equal+delete gives old, equal+insert gives new
#
# Everything is plain data: rendering it runs no query.

EQUAL, INSERT, DELETE = "equal", "insert", "delete"
# Below this similarity a character diff is noise: show the old text struck and the new inserted.
WHOLE_REPLACE_RATIO = 0.3
# Equal runs this short between two edits are folded into them (a shared "的" or "和" is chance).
FOLD_EQUAL_RUN = 2


@dataclass(frozen=True)
class Segment:
    op: str
    text: str


@dataclass
class FieldDiff:
    key: str
    label: str
    old: str
    new: str
    segments: list[Segment]

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass
class ItemDiff:
    id: object
    status: str
    number: int | None
    old_number: int | None
    fields: list[FieldDiff] = field(default_factory=list)

    @property
    def moved(self) -> bool:
        return self.status in ("changed", "unchanged") and self.number != self.old_number

    @property
    def changed_fields(self) -> list[FieldDiff]:
        return [f for f in self.fields if f.changed]

    def value(self, key: str) -> str:
        """The current value of a field (the previous one for a removed item)."""
        for f in self.fields:
            if f.key == key:
                return f.old if self.status == "removed" else f.new
        return ""


@dataclass
class VersionDiff:
    has_previous: bool
    goal: FieldDiff
    items: list[ItemDiff]

    def _count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)

    @property
    def added(self) -> int:
        return self._count("added")

    @property
    def removed(self) -> int:
        return self._count("removed")

    @property
    def changed_items(self) -> int:
        return self._count("changed")

    @property
    def unchanged(self) -> int:
        return self._count("unchanged")

    @property
    def moved(self) -> int:
        return sum(1 for i in self.items if i.moved)

    @property
    def changed(self) -> bool:
        return self.goal.changed or any(i.status != "unchanged" or i.moved for i in self.items)


def text_segments(old: str, new: str) -> list[Segment]:
    """Character-level insertions and deletions turning `old` into `new`.

    Characters, not words: Chinese has no spaces to split on, and SequenceMatcher on characters
    finds the edited phrase. Very different texts come back as one deletion and one insertion.
    """
    if old == new:
        return [Segment(EQUAL, old)] if old else []
    if not old:
        return [Segment(INSERT, new)]
    if not new:
        return [Segment(DELETE, old)]
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    if matcher.ratio() < WHOLE_REPLACE_RATIO:
        return [Segment(DELETE, old), Segment(INSERT, new)]
    ops = [(tag, old[i1:i2], new[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes()]
    merged: list[list] = []
    for n, (tag, a, b) in enumerate(ops):
        if tag == "equal" and len(a) <= FOLD_EQUAL_RUN and 0 < n < len(ops) - 1:
            tag = "replace"
        if tag != "equal" and merged and merged[-1][0] != "equal":
            merged[-1][1] += a
            merged[-1][2] += b
        else:
            merged.append([tag, a, b])
    segments = []
    for tag, a, b in merged:
        if tag == "equal":
            segments.append(Segment(EQUAL, a))
            continue
        if a:
            segments.append(Segment(DELETE, a))
        if b:
            segments.append(Segment(INSERT, b))
    return segments


def _whole_segments(old: str, new: str) -> list[Segment]:
    """Short values (a date, a name) read best replaced whole."""
    if old == new:
        return [Segment(EQUAL, old)] if old else []
    return [s for s in (Segment(DELETE, old), Segment(INSERT, new)) if s.text]


def _cn_date(value) -> str:
    parsed = parse_date(value)
    if parsed is None:
        return value or ""
    return f"{parsed.year}年{parsed.month}月{parsed.day}日"


def _item_fields(measures_label: str, with_responsible: bool):
    """(key, label, display function, whole-value?) of the compared item fields, in form order."""
    fields = [("content", "承诺内容", str, False), ("measures", measures_label, str, False),
              ("deadline", "完成时限", _cn_date, True)]
    if with_responsible:
        fields.append(("responsible", "履行责任人", str, True))
    return fields


def _field_diff(key, label, old_value, new_value, display=str, whole=False) -> FieldDiff:
    old = display(old_value or "") if old_value else ""
    new = display(new_value or "") if new_value else ""
    return FieldDiff(key=key, label=label, old=old, new=new,
                     segments=(_whole_segments if whole else text_segments)(old, new))


def version_diff(previous: dict | None, current: dict, *, goal_label: str = "目标",
                 measures_label: str = "措施", with_responsible: bool = True) -> VersionDiff:
    """What changed from one frozen snapshot to the next: the goal and each item, matched by id.

    `previous` None (a first version) gives has_previous False and every item "added".
    The labels default to neutral words; pass the commitment's goal_label and measures_label
    (创建目标/具体措施, 争当目标/完成措施). Member pledges have no 履行责任人: with_responsible=False.
    """
    spec = _item_fields(measures_label, with_responsible)
    cur_items = list(current.get("items", []))
    prev_items = list((previous or {}).get("items", []))
    prev_by_id = {i.get("id"): (n, i) for n, i in enumerate(prev_items, start=1)}
    cur_ids = {i.get("id") for i in cur_items}

    def diff_of(old: dict | None, new: dict | None) -> list[FieldDiff]:
        return [_field_diff(key, label, (old or {}).get(key), (new or {}).get(key), display, whole)
                for key, label, display, whole in spec]

    # A removed item is shown after the nearest earlier item that survived (or first of all).
    removed_after: dict[object, list[ItemDiff]] = {}
    anchor = None
    for n, item in enumerate(prev_items, start=1):
        if item.get("id") in cur_ids:
            anchor = item.get("id")
            continue
        removed_after.setdefault(anchor, []).append(
            ItemDiff(id=item.get("id"), status="removed", number=None, old_number=n, fields=diff_of(item, None)))

    items: list[ItemDiff] = list(removed_after.get(None, [])) if previous is not None else []
    for n, item in enumerate(cur_items, start=1):
        match = prev_by_id.get(item.get("id")) if previous is not None else None
        if match is None:
            items.append(ItemDiff(id=item.get("id"), status="added", number=n, old_number=None,
                                  fields=diff_of(None, item)))
        else:
            old_number, old = match
            fields = diff_of(old, item)
            status = "changed" if any(f.changed for f in fields) else "unchanged"
            items.append(ItemDiff(id=item.get("id"), status=status, number=n, old_number=old_number,
                                  fields=fields))
            items.extend(removed_after.get(item.get("id"), []))
    goal = _field_diff("goal", goal_label, (previous or {}).get("goal", "") if previous is not None
                       else current.get("goal", ""), current.get("goal", ""))
    return VersionDiff(has_previous=previous is not None, goal=goal, items=items)
