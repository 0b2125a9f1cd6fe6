"""version_diff: the goal and the items of two frozen snapshots, matched by the stable item id."""
import pytest
from django.template.loader import render_to_string

from commitments.diff import DELETE, EQUAL, INSERT, Segment, text_segments, version_diff


def item(id, content, measures="按月检查", deadline="2010-12-31", responsible="支部书记"):
    return {"id": id, "content": content, "measures": measures, "deadline": deadline,
            "responsible": responsible, "source": ""}


def snap(goal, *items):
    return {"goal": goal, "is_oral": False, "recorder": "", "items": list(items)}


def old_of(segments):
    return "".join(s.text for s in segments if s.op != INSERT)


def new_of(segments):
    return "".join(s.text for s in segments if s.op != DELETE)


def by_id(diff):
    return {i.id: i for i in diff.items}


@pytest.mark.parametrize("old,new", [
    ("为群众办实事", "为基层群众办好事"),
    ("争当优秀共产党员", "争当优秀党务工作者"),
    ("", "新增的目标"),
    ("删掉的目标", ""),
    ("完全不同的一句话", "毫无关系之文字内容"),
    ("每月走访困难党员一次。\n年底总结。", "每两周走访困难党员一次。\n年底书面总结。"),
])
def test_segments_rebuild_both_texts(old, new):
    segments = text_segments(old, new)
    assert old_of(segments) == old and new_of(segments) == new


def test_chinese_insertions_and_replacements_are_character_level():
    assert text_segments("为群众办实事", "为基层群众办好事") == [
        Segment(EQUAL, "为"), Segment(INSERT, "基层"), Segment(EQUAL, "群众办"),
        Segment(DELETE, "实"), Segment(INSERT, "好"), Segment(EQUAL, "事")]


def test_very_different_texts_are_replaced_whole():
    assert text_segments("加强党员教育管理", "完善服务群众机制") == [
        Segment(DELETE, "加强党员教育管理"), Segment(INSERT, "完善服务群众机制")]


def test_a_chance_shared_character_between_edits_is_folded_in():
    segments = text_segments("每月开展一次学习和一次走访活动", "每周开展两次学习与三次走访活动")
    # No lone "一"/"次" islands between edits: the equal runs left are the meaningful ones.
    assert all(len(s.text) > 2 for s in segments[1:-1] if s.op == EQUAL)
    assert old_of(segments) == "每月开展一次学习和一次走访活动"


def test_identical_versions_have_no_changes():
    s = snap("创建五个好党组织", item(1, "办好一件实事"), item(2, "开展结对帮扶"))
    diff = version_diff(s, s)
    assert diff.has_previous and not diff.changed
    assert [i.status for i in diff.items] == ["unchanged", "unchanged"]
    assert (diff.added, diff.removed, diff.changed_items, diff.unchanged) == (0, 0, 0, 2)


def test_first_version_has_nothing_to_compare_with():
    diff = version_diff(None, snap("目标", item(1, "事项一")))
    assert not diff.has_previous
    assert [i.status for i in diff.items] == ["added"]
    assert not diff.goal.changed


def test_added_removed_and_changed_items_are_matched_by_id():
    before = snap("目标", item(1, "开展政策宣讲"), item(2, "走访困难群众"), item(3, "整理档案"))
    after = snap("目标", item(3, "整理党建档案"), item(1, "开展政策宣讲"), item(4, "设立党员示范岗"))
    diff = version_diff(before, after)
    items = by_id(diff)
    assert items[4].status == "added" and items[4].number == 3 and items[4].old_number is None
    assert items[2].status == "removed" and items[2].number is None and items[2].old_number == 2
    assert items[3].status == "changed" and items[3].moved and items[3].old_number == 3
    assert items[1].status == "unchanged" and items[1].moved
    changed = items[3].changed_fields
    assert [f.key for f in changed] == ["content"]
    assert changed[0].segments == [Segment(EQUAL, "整理"), Segment(INSERT, "党建"), Segment(EQUAL, "档案")]
    assert (diff.added, diff.removed, diff.changed_items, diff.unchanged, diff.moved) == (1, 1, 1, 1, 2)
    # The removed item is shown after the surviving item that preceded it (item 1).
    assert [i.id for i in diff.items] == [3, 1, 2, 4]
    assert items[2].value("content") == "走访困难群众"


def test_a_removed_first_item_comes_first():
    diff = version_diff(snap("g", item(1, "甲"), item(2, "乙")), snap("g", item(2, "乙")))
    assert [(i.id, i.status) for i in diff.items] == [(1, "removed"), (2, "unchanged")]


def test_goal_change_is_a_character_diff():
    diff = version_diff(snap("争当优秀共产党员"), snap("争当优秀共产党员和岗位能手"))
    assert diff.changed and diff.goal.changed
    assert diff.goal.segments == [Segment(EQUAL, "争当优秀共产党员"), Segment(INSERT, "和岗位能手")]


def test_deadline_and_responsible_are_replaced_whole_and_dates_read_in_chinese():
    before = snap("g", item(1, "事项", deadline="2010-11-30", responsible="张三"))
    after = snap("g", item(1, "事项", deadline="2010-12-31", responsible="李四"))
    fields = {f.key: f for f in by_id(version_diff(before, after))[1].changed_fields}
    assert fields["deadline"].segments == [Segment(DELETE, "2010年11月30日"), Segment(INSERT, "2010年12月31日")]
    assert fields["responsible"].segments == [Segment(DELETE, "张三"), Segment(INSERT, "李四")]


def test_member_pledges_compare_without_responsible_and_with_their_labels():
    before = snap("g", item(1, "事项", responsible=""))
    after = snap("g", item(1, "事项", measures="每周自学", responsible=""))
    diff = version_diff(before, after, goal_label="争当目标", measures_label="完成措施", with_responsible=False)
    fields = by_id(diff)[1].fields
    assert [f.label for f in fields] == ["承诺内容", "完成措施", "完成时限"]
    assert diff.goal.label == "争当目标"


def test_the_partial_renders_ins_and_del_with_text_labels_and_no_queries():
    before = snap("争当优秀共产党员", item(1, "为群众办实事"), item(2, "整理档案"))
    after = snap("争当优秀党员", item(1, "为基层群众办好事"), item(3, "<b>设立</b>示范岗"))
    # No database in this test: a query while rendering would raise.
    html = render_to_string("commitments/partials/diff.html", {"diff": version_diff(before, after)})
    assert '<ins class="bg-success-subtle text-success-emphasis"><span class="visually-hidden">[新增：</span>基层' in html
    assert '<del class="bg-danger-subtle text-danger-emphasis"><span class="visually-hidden">[删除：</span>共产' in html
    assert "新增事项" in html and "删除事项" in html and "已修改" in html
    assert "&lt;b&gt;设立&lt;/b&gt;" in html  # snapshot text is escaped


def test_the_partial_says_when_there_is_nothing_to_compare():
    s = snap("g", item(1, "甲"))
    assert "没有修改" in render_to_string("commitments/partials/diff.html", {"diff": version_diff(s, s)})
    assert "首次提交" in render_to_string("commitments/partials/diff.html", {"diff": version_diff(None, s)})
