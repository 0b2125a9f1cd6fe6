"""The layers of docs/ARCHITECTURE.md hold: core < orgs < commitments < reviews | evaluations <
portal < config. import-linter checks every import, at any depth and inside functions too; the
checks below add what it does not: imports hidden in functions, other apps' private names, and
migrations that reach up."""
import ast
import pathlib

from importlinter.cli import lint_imports

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Lowest first; reviews and evaluations share a layer and may not import each other.
LAYERS = [{"core"}, {"orgs"}, {"commitments"}, {"reviews", "evaluations"}, {"portal"}, {"config"}]
APPS = set().union(*LAYERS)
LEVEL = {app: n for n, layer in enumerate(LAYERS) for app in layer}


def source_files():
    for app in sorted(APPS):
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield app, path


def test_import_linter_contract_is_kept(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert lint_imports(no_cache=True, no_logo=True) == 0, "lint-imports: an import breaks the layers (see above)"


def _imported_module(node: ast.ImportFrom, path: pathlib.Path) -> str:
    if not node.level:
        return node.module or ""
    package = list(path.relative_to(ROOT).with_suffix("").parts[:-1])
    base = package[:len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def test_no_project_import_hides_inside_a_function():
    """Only AppConfig.ready() imports inside a function (Django's place for connecting receivers and
    registering hooks, which need the models loaded). Third-party imports may be deferred."""
    hidden = []
    for app, path in source_files():
        for fn in ast.walk(ast.parse(path.read_text())):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or fn.name == "ready":
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom):
                    modules = [_imported_module(node, path)]
                elif isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                else:
                    continue
                if any(m.split(".")[0] in APPS for m in modules):
                    hidden.append(f"{path.relative_to(ROOT)}:{node.lineno} {modules}")
    assert not hidden, "imports inside functions:\n" + "\n".join(hidden)


def test_no_app_uses_another_apps_private_names():
    found = []
    for app, path in source_files():
        tree = ast.parse(path.read_text())
        other_modules = set()  # names bound to another app's modules in this file
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = _imported_module(node, path)
                if module.split(".")[0] in APPS - {app}:
                    for alias in node.names:
                        if alias.name.startswith("_"):
                            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {module}.{alias.name}")
                        other_modules.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in APPS - {app}:
                        other_modules.add(alias.asname or alias.name.split(".")[0])
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                    and isinstance(node.value, ast.Name) and node.value.id in other_modules):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value.id}.{node.attr}")
    assert not found, "another app's private names:\n" + "\n".join(found)


def test_migrations_depend_only_on_their_layer_and_below():
    """An app's migrations may depend on apps below it (a foreign key to orgs), never above: the
    migration graph has the same direction as the imports."""
    upward = []
    for app in sorted(APPS):
        for path in sorted((ROOT / app / "migrations").glob("0*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Tuple) and len(node.elts) == 2 and all(
                        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
                    other = node.elts[0].value
                    if other in LEVEL and other != app and LEVEL[other] >= LEVEL[app]:
                        upward.append(f"{path.relative_to(ROOT)} depends on {other}")
    assert not upward, "\n".join(upward)


def test_layers_here_match_the_import_linter_contract():
    text = (ROOT / "pyproject.toml").read_text()
    contract = text[text.index("[[tool.importlinter.contracts]]"):]
    listed = [line.strip().strip('",') for line in contract.splitlines()
              if line.startswith("    \"")]
    assert [set(layer.split(" | ")) for layer in reversed(listed)] == LAYERS
