"""The documentation stays inside the repository: every relative Markdown link in README.md,
docs/*.md and config/deploy/README.md points at a file (and heading) that exists here, nothing
points outside the checkout, and README.md links every file in docs/."""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = sorted([ROOT / "README.md", ROOT / "config" / "deploy" / "README.md", *(ROOT / "docs").glob("*.md")])
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
OUTSIDE = ("../shared", "/work/")


def _links(path):
    return LINK.findall(FENCE.sub("", path.read_text(encoding="utf-8")))


def _anchors(path):
    """GitHub's heading ids: lower case, punctuation dropped, spaces become hyphens."""
    headings = re.findall(r"^#+\s+(.*?)\s*$", FENCE.sub("", path.read_text(encoding="utf-8")), re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def _name(path):
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("doc", DOCS, ids=_name)
def test_relative_links_resolve_inside_the_repository(doc):
    broken = []
    for target in _links(doc):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (doc.parent / file_part).resolve() if file_part else doc
        if not dest.is_relative_to(ROOT) or not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(target)
    assert broken == [], f"{_name(doc)}: links that do not resolve in the repository: {broken}"


@pytest.mark.parametrize("doc", DOCS, ids=_name)
def test_no_doc_refers_outside_the_repository(doc):
    text = doc.read_text(encoding="utf-8")
    assert [s for s in OUTSIDE if s in text] == []
    assert [t for t in _links(doc) if t.startswith("/")] == []


def test_readme_links_every_doc():
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in _links(ROOT / "README.md")}
    missing = [_name(p) for p in sorted((ROOT / "docs").iterdir()) if p.is_file() and p not in linked]
    assert missing == [], f"README.md「文档」does not link: {missing}"
