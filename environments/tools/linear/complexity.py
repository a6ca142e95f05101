"""Query size limits, after Linear's: depth, and a complexity score with a ceiling.

Linear scores a query by what it could return: 0.1 per scalar field, 1 per object, and a
connection multiplies what it holds by its page size (``first``/``last``, 50 by default); a
query over 10,000 points is refused. Without this a nested ``children``/``comments`` query
could ask for millions of objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

MAX_COMPLEXITY = 10_000.0
MAX_DEPTH = 24
DEFAULT_PAGE = 50


def depth(document: DocumentNode) -> int:
    """The deepest selection-set nesting in any definition (no recursion, any input)."""
    deepest = 0
    stack: list[tuple[SelectionSetNode, int]] = [
        (d.selection_set, 1) for d in document.definitions if getattr(d, "selection_set", None)
    ]
    while stack:
        selection_set, level = stack.pop()
        deepest = max(deepest, level)
        for selection in selection_set.selections:
            child = getattr(selection, "selection_set", None)
            if child is not None:
                stack.append((child, level + 1))
    return deepest


def _page_size(node: FieldNode, variables: Mapping[str, Any]) -> float:
    for arg in node.arguments or ():
        if arg.name.value not in ("first", "last"):
            continue
        value: Any = None
        if isinstance(arg.value, IntValueNode):
            value = int(arg.value.value)
        elif isinstance(arg.value, VariableNode):
            value = variables.get(arg.value.name.value)
        if isinstance(value, int) and value > 0:
            return float(min(value, 250))
    return float(DEFAULT_PAGE)


def complexity(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
) -> float:
    """The score of ``operation`` (fragments expanded once per use)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    root = schema.get_root_type(operation.operation)
    memo: dict[str, float] = {}
    return _score(schema, operation.selection_set, root, fragments, variables, 0, memo)


def _score(schema, selection_set, parent, fragments, variables, level, memo) -> float:
    if parent is None or level > MAX_DEPTH * 2:
        return 0.0
    total = 0.0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            fields = getattr(parent, "fields", {})
            if name.startswith("__") or name not in fields:
                continue
            field = fields[name]
            if selection.selection_set is None:
                total += 0.1
                continue
            inner = _score(
                schema,
                selection.selection_set,
                get_named_type(field.type),
                fragments,
                variables,
                level + 1,
                memo,
            )
            if "first" in field.args or "last" in field.args:
                total += 1.0 + _page_size(selection, variables) * inner
            else:
                total += 1.0 + inner
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            target = schema.get_type(condition.name.value) if condition else parent
            total += _score(
                schema, selection.selection_set, target, fragments, variables, level, memo
            )
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in memo:
                memo[name] = 0.0  # a cycle (validation forbids them) scores nothing
                target = schema.get_type(fragment.type_condition.name.value)
                memo[name] = _score(
                    schema, fragment.selection_set, target, fragments, variables, level + 1, memo
                )
            total += memo.get(name, 0.0)
    return total


__all__ = ["MAX_COMPLEXITY", "MAX_DEPTH", "complexity", "depth"]
