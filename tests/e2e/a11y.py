"""axe-core in the browser tests: WCAG 2.1 AA, no serious or critical violation allowed.

axe-core is vendored unmodified from its npm package (`tests/e2e/vendor/axe-core-<version>/`,
MPL-2.0) and evaluated through the DevTools protocol, so the pages' own Content-Security-Policy
(no inline script) stays on while it runs. GB/T 37668-2019 follows WCAG 2.1 AA.
"""
import pathlib

AXE_DIR = next((pathlib.Path(__file__).parent / "vendor").glob("axe-core-*"))
AXE_SOURCE = (AXE_DIR / "axe.min.js").read_text(encoding="utf-8")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")


def violations(page, impacts=BLOCKING) -> list[dict]:
    """Runs axe on the page as it is now; returns the violations of the given impacts."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    found = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                               resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(' '),
                                                      summary: n.failureSummary}))}));
        }""",
        TAGS,
    )
    return [v for v in found if v["impact"] in impacts]


def describe(found: list[dict]) -> str:
    lines = []
    for v in found:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']}")
        for n in v["nodes"]:
            lines.append(f"    {n['target']}: {(n['summary'] or '').splitlines()[-1].strip()}")
    return "\n".join(lines)


def assert_accessible(page, where: str = "") -> None:
    """Fails with a readable list when the page has serious or critical WCAG 2.1 AA violations."""
    found = violations(page)
    assert not found, f"axe-core: {where or page.url}\n{describe(found)}"
