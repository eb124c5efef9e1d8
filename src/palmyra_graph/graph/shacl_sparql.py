"""SHACL-SPARQL constraints run once over the whole graph, not once per focus node.

pySHACL evaluates a SPARQL-based constraint (https://www.w3.org/TR/shacl/#sparql-constraints)
once per focus node with ``$this`` pre-bound (section 5.3.1): a query per claim, per source,
per entity, each with a few hundred microseconds of pySHACL's own work around the engine's.
That is linear in the data, but with a large constant, and a rule that compares a node with
every other one (two references with the same title) becomes quadratic.

The same results come from one query with ``$this`` left free, kept where ``$this`` is a focus
node, whenever ``$this`` is bound in every solution by the query's own top-level pattern: a
triple pattern that mentions ``$this`` (outside OPTIONAL, MINUS and one side of a UNION)
leaves only the solutions whose ``$this`` is a node of the graph, exactly those that
substituting that node would give, and FILTER (NOT) EXISTS sees the same binding either way.
That holds only where an expression that names ``$this`` (FILTER, BIND, OPTIONAL's filter) is
evaluated over solutions that bind it: in a group of its own (``{ ?x p ?y FILTER(?y != $this)
}``, a MINUS) Oxigraph's substitution sees the node and a free ``$this`` sees nothing.
So a query is evaluated whole only when its algebra shows that, it projects ``$this``, any
aggregate groups by ``$this``, no sub-select uses ``$this`` and there is no LIMIT or OFFSET;
any other query (or one rdflib's parser cannot read) runs per focus node as before.
Results are then built by pySHACL itself, so the report is the one it would have written.

``DataGraph`` also answers ``bool()`` without counting the graph: pySHACL writes ``graph or
shapes_graph`` for every result it makes, and an Oxigraph-backed graph counts its triples
for that (a full scan per result).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from pyoxigraph import QuerySolutions
from pyshacl import shape as pyshacl_shape
from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP
from pyshacl.constraints.sparql.sparql_based_constraints import SPARQLBasedConstraint
from pyshacl.graph_abstraction import OxigraphDataGraph, to_ox, to_rdf
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Variable

from palmyra_graph.graph.namespaces import SH

THIS = Variable("this")
#: Algebra operators whose solutions are those of their child (or first child) where a
#: variable bound there stays bound.
_PASS_THROUGH = {"Filter", "Extend", "Distinct", "Reduced", "OrderBy", "Group", "ToMultiSet"}
_LOCK = threading.Lock()


class DataGraph(OxigraphDataGraph):
    """pySHACL's view of an Oxigraph store, whose truth value costs no scan of the graph."""

    def __bool__(self) -> bool:
        return next(iter(self.impl.quads_for_pattern(None, None, None)), None) is not None


def runs_whole(select: str, prefixes: dict[str, Any]) -> bool:
    """Whether ``select`` (a SHACL-SPARQL constraint's query, with its ``sh:prefixes``) gives,
    run once with ``$this`` free, every focus node's results with that node as ``$this``."""
    return _runs_whole(select, tuple(sorted((p, str(ns)) for p, ns in prefixes.items())))


@lru_cache(maxsize=256)
def _runs_whole(select: str, prefixes: tuple[tuple[str, str], ...]) -> bool:
    # Cached by text: rdflib's parser takes about 0.1 s a query. (pySHACL collects the
    # prefixes from a set, in an order that changes from run to run: hence the sorted key.)
    query = "".join(f"PREFIX {prefix}: <{namespace}>\n" for prefix, namespace in prefixes)
    try:
        algebra = prepareQuery(query + select).algebra
    except Exception:  # rdflib's parser raises many types; per node is always right
        return False
    if algebra.name != "SelectQuery":
        return False
    project = algebra.p
    while project.name in ("Distinct", "Reduced"):
        project = project.p
    if project.name != "Project" or THIS not in project.PV:  # a Slice (LIMIT) is above it
        return False
    pattern = project.p
    return (
        not _nested_selects_use_this(pattern)
        and _binds(pattern, THIS)
        and _expressions_see(pattern, THIS)
    )


def _binds(node: Any, var: Variable) -> bool:
    """Whether every solution of the algebra ``node`` binds ``var`` (conservatively)."""
    if not isinstance(node, CompValue):
        return False
    name = node.name
    if name == "BGP":
        return any(var in triple for triple in node.triples)
    if name == "Join":
        return _binds(node.p1, var) or _binds(node.p2, var)
    if name in ("LeftJoin", "Minus"):
        return _binds(node.p1, var)
    if name == "Union":
        return _binds(node.p1, var) and _binds(node.p2, var)
    if name == "Graph":
        return node.term == var or _binds(node.p, var)
    if name == "AggregateJoin":
        group = node.p
        return var in (group.expr or []) and _binds(group.p, var)
    if name == "Project":
        return var in node.PV and _binds(node.p, var)
    if name in _PASS_THROUGH:
        return _binds(node.p, var)
    return False


def _expressions_see(node: Any, var: Variable) -> bool:
    """Whether every expression below the pattern ``node`` that names ``var`` (EXISTS included)
    is evaluated over solutions that bind it. EXISTS patterns are not entered: the solution
    they are evaluated for substitutes ``var`` into them."""
    if not isinstance(node, CompValue):
        return True
    if node.name in ("Filter", "Extend"):
        seen = _binds(node.p, var)
    elif node.name == "LeftJoin":
        seen = _binds(node.p1, var) or _binds(node.p2, var)
    else:
        seen = True
    if not seen and _mentions(node.get("expr"), var):
        return False
    return all(_expressions_see(node.get(key), var) for key in ("p", "p1", "p2"))


def _nested_selects_use_this(node: Any) -> bool:
    """Whether a sub-select anywhere below ``node`` (in patterns or in EXISTS) names $this:
    pre-binding reaches into it, a free variable would not."""
    for child in _children(node):
        if isinstance(child, CompValue) and child.name in ("Project", "SubSelect"):
            if _mentions(child, THIS):
                return True
        elif _nested_selects_use_this(child):
            return True
    return False


def _mentions(node: Any, var: Variable) -> bool:
    if node == var:
        return True
    return any(_mentions(child, var) for child in _children(node))


def _children(node: Any) -> Iterator[Any]:
    if isinstance(node, CompValue):
        yield from (value for key, value in node.items() if key != "_vars")
    elif isinstance(node, (list, tuple)):
        yield from node


class WholeGraphConstraint(SPARQLBasedConstraint):
    """pySHACL's SPARQL-based constraint, answering all its focus nodes from one query."""

    def _evaluate_sparql_constraint(self, sparql_constraint, target_graph, f_v_dict):
        whole = self._whole_graph_rows(sparql_constraint, target_graph, f_v_dict)
        if whole is None:
            return super()._evaluate_sparql_constraint(sparql_constraint, target_graph, f_v_dict)
        # pySHACL builds the results (messages, paths, values) for the nodes that have any,
        # asking _validate_sparql_query for each node's solutions.
        violating = {focus: f_v_dict[focus] for focus in f_v_dict if focus in whole}
        self._rows: dict[Any, list[dict[str, Any]]] | None = whole
        try:
            return super()._evaluate_sparql_constraint(sparql_constraint, target_graph, violating)
        finally:
            self._rows = None

    def _whole_graph_rows(
        self, helper: Any, graph: Any, f_v_dict: dict[Any, Any]
    ) -> dict[Any, list[dict[str, Any]]] | None:
        """Every focus node's solutions, from one query; None when it must run per node."""
        if not isinstance(graph, OxigraphDataGraph) or not f_v_dict:
            return None
        bindings, select = helper.pre_bind_variables(next(iter(f_v_dict)))
        if "this" not in bindings or not runs_whole(select, helper.prefixes):
            return None
        text = helper.apply_prefixes(select)
        others = {name: to_ox(term) for name, term in bindings.items() if name != "this"}
        solutions = graph.query_oxigraph(text, initBindings=others or None)
        assert isinstance(solutions, QuerySolutions)  # a SELECT, as pySHACL has checked
        names = [variable.value for variable in solutions.variables]
        rows: dict[Any, list[dict[str, Any]]] = {}
        for solution in solutions:
            row = {
                name: to_rdf(value)
                for name, value in zip(names, solution, strict=True)
                if value is not None
            }
            focus = row.get("this")
            if focus is not None and focus in f_v_dict:
                rows.setdefault(focus, []).append(row)
        return rows

    def _validate_sparql_query(self, query, init_binds, target_graph):
        rows = getattr(self, "_rows", None)
        if rows is None:
            return super()._validate_sparql_query(query, init_binds, target_graph)
        return _violations(rows.get(init_binds["this"], []))


def _violations(rows: list[dict[str, Any]]) -> list[Any]:
    """What pySHACL 0.40's ``_validate_sparql_query`` makes of one focus node's solutions:
    one failure at most, else (this, path, value, other bindings) without repeats."""
    violations: list[Any] = []
    failed = False
    for row in rows:
        var_dict = dict(row)
        if var_dict.pop("failure", None) is not None:
            if not failed:
                violations.append((True, var_dict))
                failed = True
            continue
        path = var_dict.pop("path", None)
        value = var_dict.pop("value", None)
        this = var_dict.pop("this", None)
        if (path is not None or value is not None or this is not None) and (
            this,
            path,
            value,
            var_dict,
        ) not in violations:
            violations.append((this, path, value, var_dict))
    return violations


@contextmanager
def whole_graph_constraints() -> Iterator[None]:
    """pySHACL with ``WholeGraphConstraint`` for ``sh:sparql``, for the duration of a run.

    pySHACL reads its constraint table from ``pyshacl.shape.CONSTRAINT_PARAMS`` each time a
    shape is validated; the table is replaced, and put back, under a lock, so runs in other
    threads wait for this one.
    """
    table = dict(CONSTRAINT_PARAMETERS_MAP)
    table[SH.sparql] = WholeGraphConstraint
    module: Any = pyshacl_shape.module
    with _LOCK:
        saved = getattr(module, "CONSTRAINT_PARAMS", None)
        module.CONSTRAINT_PARAMS = (list(ALL_CONSTRAINT_PARAMETERS), table)
        try:
            yield
        finally:
            if saved is None:
                del module.CONSTRAINT_PARAMS
            else:
                module.CONSTRAINT_PARAMS = saved


__all__ = ["DataGraph", "WholeGraphConstraint", "runs_whole", "whole_graph_constraints"]
