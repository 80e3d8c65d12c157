"""The drawing of imports between our modules (gallery, transform, facetoanimals) has no circle and no
arrow running back up: URL → view → service → lifecycle → engine, read without going back.

Every import counts, at the top of a module or inside a function (an import hidden in a function is how
a circle hides); only those under `if TYPE_CHECKING:` do not, as they never run.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("gallery", "transform", "facetoanimals")


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules():
    return {module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def type_checking_only(node, parents):
    return any(
        isinstance(parent, ast.If) and "TYPE_CHECKING" in ast.unparse(parent.test) and node in parent.body for parent in parents
    )


def imported_names(name, path):
    """Every module name `name` imports anywhere in its code, as written (relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = set()
    for node in ast.walk(tree):
        chain, up = [], node
        while up in parents:
            up = parents[up]
            chain.append(up)
        if isinstance(node, ast.Import) and not type_checking_only(node, chain):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not type_checking_only(node, chain):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def graph():
    """{module: {our modules it imports}}, and {module: every name it imports} for the outside arrows."""
    ours = modules()
    names = {name: imported_names(name, path) for name, path in ours.items()}
    return {name: {target for target in imported if target in ours and target != name} for name, imported in names.items()}, names


def circles(edges):
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def reachable(edges, start):
    seen, todo = set(), [start]
    while todo:
        for target in edges[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_the_import_graph_has_no_circle():
    edges, _names = graph()
    assert len(edges) > 100  # every module of the three packages is drawn
    assert circles(edges) == []


def test_the_models_reach_nothing_of_the_generations_package():
    edges, _names = graph()
    assert {name for name in reachable(edges, "gallery.models") if name.startswith("gallery.generations")} == set()


def test_the_app_never_imports_the_project_package():
    _edges, names = graph()
    wrong = {(name, target) for name, imported in names.items() if name.startswith("gallery") for target in imported}
    assert {(name, target) for name, target in wrong if target.split(".")[0] == "facetoanimals"} == set()


def test_transform_imports_neither_the_app_the_project_nor_django_settings():
    _edges, names = graph()
    wrong = {
        (name, target)
        for name, imported in names.items()
        if name.startswith("transform")
        for target in imported
        if target.split(".")[0] in ("gallery", "facetoanimals") or target.startswith("django.conf")
    }
    assert wrong == set()


def test_a_circle_hidden_in_a_function_is_found(tmp_path):
    """The drawing itself: an import inside a function is an arrow like any other."""
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(edges) == [["a", "b", "c"]]
    source = "def late():\n    from gallery import views\n"
    (tmp_path / "probe.py").write_text(source)
    tree_names = imported_names("gallery.probe", tmp_path / "probe.py")
    assert "gallery.views" in tree_names
