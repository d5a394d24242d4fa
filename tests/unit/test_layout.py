"""The dependency rules of docs/design.md, enforced: flows → archive → schemas, never backwards; no import
cycles in the product; only the entry points and tests import the CLI package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(path: Path, known: set[str]) -> set[str]:
    """The `known` modules `path` imports, anywhere in it (inside functions and TYPE_CHECKING too): a
    circle hidden in function bodies is still a circle. `from pkg import name` counts as importing the
    module `pkg.name` when that is a module, else `pkg` itself (its `__init__`)."""
    name = _module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else target)
    return (found & known) - {name}


def _import_graph(*packages: str) -> dict[str, set[str]]:
    paths = [p for package in packages for p in _modules(package)]
    known = {_module_name(p) for p in paths}
    return {_module_name(p): _imported_modules(p, known) for p in paths}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = stack[stack.index(v) :]
            del stack[stack.index(v) :]
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("schemas", {"archive", "flows", "prefect", "elasticsearch", "boto3", "botocore", "warcio", "httpx"}),
        ("archive", {"flows", "prefect", "simulator"}),
    ],
)
def test_dependency_direction(package: str, forbidden: set[str]) -> None:
    offenders = {str(p.relative_to(REPO)): sorted(_imports(p) & forbidden) for p in _modules(package)}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_storage_knows_no_platform_and_warc_no_services() -> None:
    for path in _modules("archive/store"):
        text = path.read_text()
        assert "Platform" not in text and "connectors" not in text, path
    for path in _modules("archive/warc"):
        assert not _imports(path) & {"boto3", "elasticsearch"}, path


def test_connectors_never_import_the_warc_writer() -> None:
    """Connectors read platforms; WARC writing is the pipeline's. Redaction, which both need, sits
    beside them (archive/redact.py), so no connector module imports anything from archive/warc/."""
    known = set(_import_graph("archive"))
    offenders = {
        _module_name(p): sorted(m for m in _imported_modules(p, known) if m.startswith("archive.warc"))
        for p in _modules("archive/connectors")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_schemas_export_what_they_define() -> None:
    import schemas

    assert schemas.__all__ == sorted(schemas.__all__)
    for name in schemas.__all__:
        assert getattr(schemas, name).__module__.startswith("schemas."), name


def test_cycle_finder_finds_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_in_the_product() -> None:
    """archive/, schemas/ and flows/ (so also inside archive/cli/): a module never needs, even lazily, one that
    needs it."""
    assert _cycles(_import_graph("archive", "schemas", "flows")) == []


FOUNDATIONS = {"bundles", "clock", "config", "context", "durable", "errors", "faults", "logs", "redact", "version"}
"""The only modules at the top of archive/: what every package may use (docs/architecture.md); a feature
gets a package named for what it owns."""


def _package_graph() -> dict[str, set[str]]:
    """archive's packages and top modules (`ingest`, `harvest`, `config` …) and which of them each imports."""

    def top(module: str) -> str:
        return module.split(".")[1] if "." in module else module

    graph: dict[str, set[str]] = {}
    for module, needs in _import_graph("archive").items():
        graph.setdefault(top(module), set()).update(top(m) for m in needs if top(m) != top(module))
    return graph


def test_the_top_of_archive_holds_foundations_and_packages() -> None:
    loose = {p.stem for p in (REPO / "archive").glob("*.py")} - {"__init__", "__main__"}
    assert loose - FOUNDATIONS == set()


def test_no_import_cycles_between_packages() -> None:
    """Package by package too (closing a channel is harvest's, which reads the closures in accounts/, so
    accounts/ never imports harvest/): each package can be read knowing only those below it."""
    assert _cycles(_package_graph()) == []


def test_foundations_import_no_feature() -> None:
    """Foundations import only foundations, except `context`, the wiring, which assembles the services."""
    graph = _package_graph()
    offenders = {m: sorted(graph[m] - FOUNDATIONS) for m in FOUNDATIONS - {"context"}}
    assert {k: v for k, v in offenders.items() if v} == {}


def _documented_order() -> list[str]:
    """archive's packages and top modules in the order docs/architecture.md's map lists them."""
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = text[text.index("archive/     the library") : text.index("flows/       Prefect flows")]
    return re.findall(r"^  (\w+)(?:/|\.py)\s", block, flags=re.M)


def test_each_package_imports_only_what_the_map_lists_before_it() -> None:
    """The map in docs/architecture.md is the dependency order: foundations first (importing each other
    freely), then lower packages, features, the wiring, the doors. A new import that points down the list
    fails here, and so does a package the map does not name."""
    order = _documented_order()
    graph = _package_graph()
    assert set(graph) - {"archive", "__main__"} - set(order) == set(), "packages missing from the map"
    level = {name: 0 if name in FOUNDATIONS - {"context"} else i + 1 for i, name in enumerate(order)}
    upward = {
        f"{a} → {b}"
        for a, needs in graph.items()
        if a in level
        for b in needs
        if b in level and level[b] >= level[a] and not level[a] == level[b] == 0
    }
    assert upward == set()


def test_ingest_knows_nothing_of_holds_preservation_or_who_calls_it() -> None:
    """Holds and the PREMIS event are after-commit steps handed in (archive/context.py); harvest, the use
    cases and the interfaces call ingest, never the other way; connectors hand it bundles, not code."""
    below = _package_graph()["ingest"]
    assert below & {"holds", "preservation", "harvest", "connectors", "usecases", "web", "cli", "context"} == set()


def test_no_import_cycles_in_the_simulator() -> None:
    """faults checks a rule's platform against simulator/platform_names.py, not the platform modules."""
    assert _cycles(_import_graph("simulator")) == []


@pytest.mark.parametrize("package", ["archive", "schemas", "flows", "simulator", "bench", "scripts"])
def test_only_entry_points_import_the_cli_package(package: str) -> None:
    """Command modules share helpers through archive/cli/common.py; the package `__init__` (the assembled
    app) is for `communis = "archive.cli:main"`, `python -m archive` and tests only."""
    paths = _modules(package)
    known = {_module_name(p) for p in _modules("archive")} | {_module_name(p) for p in paths}
    entry_points = {REPO / "archive" / "__main__.py", REPO / "archive" / "cli" / "__init__.py"}
    offenders = [
        str(p.relative_to(REPO))
        for p in paths
        if p not in entry_points and "archive.cli" in _imported_modules(p, known)
    ]
    assert offenders == []


def test_the_cli_is_typed_without_escapes() -> None:
    for path in _modules("archive/cli"):
        text = path.read_text(encoding="utf-8")
        assert "type: ignore" not in text, path
        annotations = [node.annotation for node in ast.walk(ast.parse(text)) if isinstance(node, ast.arg)]
        returns = [node.returns for node in ast.walk(ast.parse(text)) if isinstance(node, ast.FunctionDef)]
        assert "object" not in {ast.unparse(a) for a in [*annotations, *returns] if a is not None}, path


#: Keys that only Elasticsearch's query DSL uses: a dict literal with one of them is a query being built.
ES_DSL_KEYS = frozenset(
    {
        "query",
        "bool",
        "term",
        "terms",
        "match",
        "match_all",
        "match_phrase",
        "range",
        "exists",
        "must",
        "must_not",
        "should",
        "filter",
        "nested",
        "aggs",
        "aggregations",
        "query_string",
        "simple_query_string",
        "wildcard",
    }
)


def _dsl_dicts(path: Path) -> list[str]:
    """The dict literals in `path` keyed by a query-DSL word, as `line: keys`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Dict):
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
            if keys & ES_DSL_KEYS:
                found.append(f"{node.lineno}: {sorted(keys & ES_DSL_KEYS)}")
    return found


def test_dsl_finder_finds_a_query(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('n = index.count({"term": {"legal_holds": hold}})\nform = {"matter": "x", "reason": ""}\n')
    assert _dsl_dicts(sample) == ["1: ['term']"]


@pytest.mark.parametrize("package", ["archive/cli", "archive/web"])
def test_the_interfaces_never_import_elasticsearch_nor_build_queries(package: str) -> None:
    """The CLI and the web ask archive/index/ and archive/usecases/ for what they need by name."""
    assert {
        str(p.relative_to(REPO)): "imports elasticsearch" for p in _modules(package) if "elasticsearch" in _imports(p)
    } == {}
    assert {str(p.relative_to(REPO)): d for p in _modules(package) if (d := _dsl_dicts(p))} == {}


#: The modules that serve requests, holds and retention, and the use-case modules each must go through.
USE_CASE_CALLERS = {
    "archive/cli/requests.py": {"archive.usecases.requests"},
    "archive/cli/holds.py": {"archive.usecases.holds"},
    "archive/cli/retention.py": {"archive.usecases.retention"},
    "archive/web/state.py": {"archive.usecases.requests", "archive.usecases.holds"},
}
#: The steps of the feature packages that only archive/usecases/ calls (it audits them; callers cannot forget to).
USE_CASE_STEPS = frozenset(
    {
        "place_hold",
        "release_hold",
        "new_case",
        "run_case",
        "review_record",
        "decide_masks",
        "add_manual_mask",
        "deliver",
        "produce",
        "plan",
        "approve",
        "dispose",
        "reevaluate",
        "erasure_request",
    }
)


@pytest.mark.parametrize(("module", "needed"), sorted(USE_CASE_CALLERS.items()))
def test_requests_holds_and_retention_go_through_the_use_cases(module: str, needed: set[str]) -> None:
    known = {_module_name(p) for p in _modules("archive")}
    assert needed <= _imported_modules(REPO / module, known)


@pytest.mark.parametrize("package", ["archive/cli", "archive/web"])
def test_the_interfaces_never_run_a_use_case_step_themselves(package: str) -> None:
    offenders = {}
    for path in _modules(package):
        names = {
            alias.name
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        if names & USE_CASE_STEPS:
            offenders[str(path.relative_to(REPO))] = sorted(names & USE_CASE_STEPS)
    assert offenders == {}


#: The only places that may import the Elasticsearch client library: the index package, which turns the
#: archive's questions into queries, and the service launcher (local development services).
ES_OWNERS = ("archive/index/", "archive/services/")
#: Modules that use DSL words for something else: the connectors send platforms' own query parameters
#: (the Graph API's `filter`, X's search `query`, Bluesky's feed `filter`), not Elasticsearch queries.
NOT_ES_DSL = ("archive/connectors/",)


def _outside_the_index(*packages: str) -> list[Path]:
    return [p for package in packages for p in _modules(package) if not str(p.relative_to(REPO)).startswith(ES_OWNERS)]


def test_only_the_index_imports_elasticsearch() -> None:
    assert [
        str(p.relative_to(REPO))
        for p in _outside_the_index("archive", "flows", "schemas")
        if "elasticsearch" in _imports(p)
    ] == []


def test_only_the_index_builds_queries() -> None:
    """Harvest, holds, retention, register, transfer, the event logs …: each asks archive/index/ by name."""
    offenders = {
        str(p.relative_to(REPO)): d
        for p in _outside_the_index("archive", "flows")
        if not str(p.relative_to(REPO)).startswith(NOT_ES_DSL) and (d := _dsl_dicts(p))
    }
    assert offenders == {}


def _client_uses(path: Path) -> list[int]:
    """Lines reaching for an index's or event stream's client (`x.es`, `x._es`)."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr in {"es", "_es"}
    ]


def test_client_finder_finds_a_reach_through(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("found = index.es.search(index=index.alias)\nes = make_client(settings)\n")
    assert _client_uses(sample) == [1]


def test_the_client_stays_in_the_index() -> None:
    """RecordIndex and EventStream keep their client (`_es`; `es` is for tests and benchmarks only)."""
    assert {
        str(p.relative_to(REPO)): lines for p in _outside_the_index("archive", "flows") if (lines := _client_uses(p))
    } == {}
