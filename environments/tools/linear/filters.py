"""Linear's filter inputs (``IssueFilter``, ``TeamFilter``...) compiled to SQL WHERE clauses.

A filter is the plain dict graphql-core coerced from the request. Each entity declares how
its filter fields map to SQL (:class:`Cmp` for a column with a comparator, :class:`Rel` for a
to-one relation filtered by the target's own filter, :class:`LabelSet` for the label
collection, :class:`Computed` for fields like ``isMe`` or ``isActive``); ``and`` / ``or`` nest.
Relations become ``fk IN (SELECT id FROM target WHERE …)``, so the whole filter runs in SQLite
and pagination applies to the filtered rows.

Comparator semantics: a key whose value is null is ignored; negations (``neq``, ``nin``,
``notContains``…) also match a missing (NULL) value; ``in: []`` matches nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from environments.tools.linear.model import LinearError, fold

# Bounds that keep a filter within what SQLite compiles (and a request's fair share of work).
MAX_NESTING = 12
MAX_RELATIONS = 64
MAX_VALUES = 2000

# Comparator kinds -> how a value is prepared before it is bound.
STRING, ID, NUMBER, DATE, BOOL, CONTENT = "string", "id", "number", "date", "bool", "content"


@dataclass(frozen=True)
class Cmp:
    """A column (or SQL expression over ``{a}``, the row alias) filtered by a comparator."""

    expr: str
    kind: str


@dataclass(frozen=True)
class Rel:
    """A to-one relation: ``fk`` on this row points at ``target``'s id."""

    target: str
    fk: str


@dataclass(frozen=True)
class LabelSet:
    """An issue's labels (``IssueLabelCollectionFilter``)."""


@dataclass(frozen=True)
class Computed:
    """A BooleanComparator over a condition that depends on the request (viewer, now)."""

    condition: Callable[[Builder, str], str]


FilterField = Cmp | Rel | LabelSet | Computed


@dataclass(frozen=True)
class Spec:
    """How one entity's rows are read and filtered."""

    table: str
    short: str
    filters: Mapping[str, FilterField] = field(default_factory=dict)


SPECS: dict[str, Spec] = {}


def _cmp(column: str, kind: str) -> Cmp:
    return Cmp(f"{{a}}.{column}", kind)


_COMMON = {
    "id": _cmp("id", ID),
    "createdAt": _cmp("created_at", DATE),
    "updatedAt": _cmp("updated_at", DATE),
}


def _is_me(b: Builder, a: str) -> str:
    b.params.append(b.viewer_id)
    return f"{a}.id = ?"


def _cycle_when(which: str) -> Callable[[Builder, str], str]:
    def condition(b: Builder, a: str) -> str:
        now = b.now_literal
        if which == "active":
            return f"({a}.starts_at <= {now} AND {a}.ends_at > {now})"
        if which == "past":
            return f"({a}.ends_at <= {now})"
        if which == "future":
            return f"({a}.starts_at > {now})"
        if which == "next":
            return (
                f"({a}.id = (SELECT n.id FROM cycles n WHERE n.team_id = {a}.team_id "
                f"AND n.starts_at > {now} ORDER BY n.starts_at, n.id LIMIT 1))"
            )
        return (
            f"({a}.id = (SELECT p.id FROM cycles p WHERE p.team_id = {a}.team_id "
            f"AND p.ends_at <= {now} ORDER BY p.ends_at DESC, p.id DESC LIMIT 1))"
        )

    return condition


SPECS["Issue"] = Spec(
    "issues",
    "i",
    {
        **_COMMON,
        "number": _cmp("number", NUMBER),
        "title": _cmp("title", STRING),
        "description": _cmp("description", STRING),
        "priority": _cmp("priority", NUMBER),
        "dueDate": _cmp("due_date", DATE),
        "completedAt": _cmp("completed_at", DATE),
        "canceledAt": _cmp("canceled_at", DATE),
        "startedAt": _cmp("started_at", DATE),
        "archivedAt": _cmp("archived_at", DATE),
        "triagedAt": _cmp("triaged_at", DATE),
        "searchableContent": Cmp("({a}.title || ' ' || IFNULL({a}.description, ''))", CONTENT),
        "state": Rel("WorkflowState", "state_id"),
        "team": Rel("Team", "team_id"),
        "assignee": Rel("User", "assignee_id"),
        "creator": Rel("User", "creator_id"),
        "project": Rel("Project", "project_id"),
        "cycle": Rel("Cycle", "cycle_id"),
        "parent": Rel("Issue", "parent_id"),
        "labels": LabelSet(),
    },
)
SPECS["Team"] = Spec(
    "teams",
    "t",
    {
        **_COMMON,
        "key": _cmp("key", STRING),
        "name": _cmp("name", STRING),
        "description": _cmp("description", STRING),
        "private": _cmp("private", BOOL),
    },
)
SPECS["WorkflowState"] = Spec(
    "states",
    "s",
    {
        **_COMMON,
        "name": _cmp("name", STRING),
        "type": _cmp("type", STRING),
        "description": _cmp("description", STRING),
        "position": _cmp("position", NUMBER),
        "team": Rel("Team", "team_id"),
    },
)
SPECS["User"] = Spec(
    "users",
    "u",
    {
        **_COMMON,
        "name": _cmp("name", STRING),
        "displayName": _cmp("display_name", STRING),
        "email": _cmp("email", STRING),
        "active": _cmp("active", BOOL),
        "admin": _cmp("admin", BOOL),
        "app": _cmp("app", BOOL),
        "owner": _cmp("owner", BOOL),
        "isMe": Computed(_is_me),
    },
)
SPECS["IssueLabel"] = Spec(
    "labels",
    "l",
    {
        **_COMMON,
        "name": _cmp("name", STRING),
        "isGroup": _cmp("is_group", BOOL),
        "parent": Rel("IssueLabel", "parent_id"),
        "team": Rel("Team", "team_id"),
        "creator": Rel("User", "creator_id"),
    },
)
SPECS["Project"] = Spec(
    "projects",
    "p",
    {
        **_COMMON,
        "name": _cmp("name", STRING),
        "slugId": _cmp("slug_id", STRING),
        "state": _cmp("state", STRING),
        "startDate": _cmp("start_date", DATE),
        "targetDate": _cmp("target_date", DATE),
        "completedAt": _cmp("completed_at", DATE),
        "lead": Rel("User", "lead_id"),
    },
)
SPECS["Cycle"] = Spec(
    "cycles",
    "c",
    {
        **_COMMON,
        "number": _cmp("number", NUMBER),
        "name": _cmp("name", STRING),
        "startsAt": _cmp("starts_at", DATE),
        "endsAt": _cmp("ends_at", DATE),
        # A cycle is complete once it has ended (cycles close on their own here).
        "completedAt": Cmp("(CASE WHEN {a}.ends_at <= {now} THEN {a}.ends_at END)", DATE),
        "team": Rel("Team", "team_id"),
        "isActive": Computed(_cycle_when("active")),
        "isPast": Computed(_cycle_when("past")),
        "isFuture": Computed(_cycle_when("future")),
        "isNext": Computed(_cycle_when("next")),
        "isPrevious": Computed(_cycle_when("previous")),
    },
)
SPECS["Comment"] = Spec(
    "comments",
    "m",
    {
        **_COMMON,
        "body": _cmp("body", STRING),
        "user": Rel("User", "user_id"),
        "issue": Rel("Issue", "issue_id"),
    },
)


def _too_big(what: str) -> LinearError:
    return LinearError(
        "Argument Validation Error",
        user_message=f"filter: {what}; simplify it (split it into several queries).",
    )


class Builder:
    """Accumulates SQL text and bound parameters for one query."""

    def __init__(self, *, viewer_id: str, now_iso: str):
        self.params: list[Any] = []
        self.viewer_id = viewer_id
        self.now_literal = "'" + now_iso.replace("'", "") + "'"
        self._aliases = 0
        self._depth = 0

    def alias(self, short: str) -> str:
        self._aliases += 1
        if self._aliases > MAX_RELATIONS:
            raise _too_big(f"more than {MAX_RELATIONS} nested relation filters")
        return f"{short}{self._aliases}"

    # -- filters -----------------------------------------------------------------------------

    def where(self, entity: str, alias: str, filt: Mapping[str, Any] | None) -> str:
        """The WHERE condition for ``filt`` over rows of ``entity`` named ``alias``."""
        if not filt:
            return "1"
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise _too_big(f"filters nested more than {MAX_NESTING} levels deep")
            sql = self._where(entity, alias, filt)
        finally:
            self._depth -= 1
        if len(self.params) > MAX_VALUES:
            raise _too_big(f"more than {MAX_VALUES} values in the filter")
        return sql

    def _where(self, entity: str, alias: str, filt: Mapping[str, Any]) -> str:
        spec = SPECS[entity]
        parts: list[str] = []
        for key, value in filt.items():
            if value is None or key == "null":
                continue
            if key in ("and", "or"):
                subs = [self.where(entity, alias, sub) for sub in value if sub is not None]
                if subs:
                    joiner = " AND " if key == "and" else " OR "
                    parts.append("(" + joiner.join(subs) + ")")
                continue
            parts.append(self.field(spec.filters[key], alias, value))
        return " AND ".join(parts) if parts else "1"

    def field(self, spec: FilterField, alias: str, value: Any) -> str:
        if isinstance(spec, Cmp):
            expr = spec.expr.replace("{a}", alias).replace("{now}", self.now_literal)
            return self.comparator(expr, spec.kind, value)
        if isinstance(spec, Rel):
            return self.relation(spec, alias, value)
        if isinstance(spec, LabelSet):
            return self.labels(alias, value)
        return self.boolean(spec.condition(self, alias), value)

    def relation(self, rel: Rel, alias: str, value: Mapping[str, Any]) -> str:
        fk = f"{alias}.{rel.fk}"
        parts = []
        null = value.get("null")
        if null is True:
            parts.append(f"{fk} IS NULL")
        elif null is False:
            parts.append(f"{fk} IS NOT NULL")
        if any(v is not None for k, v in value.items() if k != "null"):
            target = SPECS[rel.target]
            sub = self.alias(target.short)
            inner = self.where(rel.target, sub, value)
            parts.append(f"{fk} IN (SELECT {sub}.id FROM {target.table} {sub} WHERE {inner})")
        return " AND ".join(parts) if parts else "1"

    def labels(self, alias: str, value: Mapping[str, Any]) -> str:
        """IssueLabelCollectionFilter: label fields mean "some label matches"."""
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise _too_big(f"filters nested more than {MAX_NESTING} levels deep")
            return self._labels(alias, value)
        finally:
            self._depth -= 1

    def _labels(self, alias: str, value: Mapping[str, Any]) -> str:
        parts = []
        for key, sub_value in value.items():
            if sub_value is None:
                continue
            if key in ("and", "or"):
                subs = [self.labels(alias, v) for v in sub_value if v is not None]
                if subs:
                    parts.append("(" + (" AND " if key == "and" else " OR ").join(subs) + ")")
            elif key == "null":
                has = f"EXISTS (SELECT 1 FROM issue_labels x WHERE x.issue_id = {alias}.id)"
                parts.append(f"NOT {has}" if sub_value else has)
            elif key == "length":
                count = f"(SELECT COUNT(*) FROM issue_labels x WHERE x.issue_id = {alias}.id)"
                parts.append(self.comparator(count, NUMBER, sub_value))
            elif key in ("some", "every"):
                parts.append(self._label_match(alias, sub_value, every=key == "every"))
            else:
                parts.append(self._label_match(alias, {key: sub_value}, every=False))
        return " AND ".join(parts) if parts else "1"

    def _label_match(self, alias: str, label_filter: Mapping[str, Any], *, every: bool) -> str:
        sub = self.alias("l")
        link = self.alias("x")
        inner = self.where("IssueLabel", sub, label_filter)
        rows = (
            f"SELECT 1 FROM issue_labels {link} JOIN labels {sub} ON {sub}.id = {link}.label_id "
            f"WHERE {link}.issue_id = {alias}.id AND "
        )
        if every:
            return f"NOT EXISTS ({rows}NOT COALESCE(({inner}), 0))"
        return f"EXISTS ({rows}({inner}))"

    # -- comparators -------------------------------------------------------------------------

    def boolean(self, condition: str, comparator: Mapping[str, Any]) -> str:
        parts = []
        for op, value in comparator.items():
            if value is None:
                continue
            wanted = bool(value) if op == "eq" else not value
            parts.append(condition if wanted else f"NOT {condition}")
        return " AND ".join(parts) if parts else "1"

    def comparator(self, expr: str, kind: str, comparator: Mapping[str, Any]) -> str:
        if kind == BOOL:
            parts = []
            for op, value in comparator.items():
                if value is None:
                    continue
                self.params.append(1 if value else 0)
                parts.append(f"{expr} = ?" if op == "eq" else f"{expr} IS NOT ?")
            return " AND ".join(parts) if parts else "1"
        parts = []
        for op, value in comparator.items():
            if op == "null":
                if value is not None:
                    parts.append(f"{expr} IS NULL" if value else f"{expr} IS NOT NULL")
                continue
            if value is None:
                continue
            parts.append(self._op(expr, kind, op, value))
        return " AND ".join(parts) if parts else "1"

    def _bind(self, value: Any, kind: str) -> str:
        self.params.append(float(value) if kind == NUMBER else value)
        return "?"

    def _op(self, expr: str, kind: str, op: str, value: Any) -> str:
        if kind == CONTENT:
            self.params.append(value.lower())
            found = f"instr(lin_lower({expr}), ?) > 0"
            return found if op == "contains" else f"NOT {found}"
        if op in ("in", "nin"):
            items = [v for v in value if v is not None]
            if not items:
                return "0" if op == "in" else "1"
            marks = ", ".join(self._bind(v, kind) for v in items)
            if op == "in":
                return f"{expr} IN ({marks})"
            return f"({expr} IS NULL OR {expr} NOT IN ({marks}))"
        simple = {"eq": "=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
        if op in simple:
            return f"{expr} {simple[op]} {self._bind(value, kind)}"
        if op == "neq":
            return f"({expr} IS NULL OR {expr} != {self._bind(value, kind)})"
        return self._text_op(expr, op, value)

    def _text_op(self, expr: str, op: str, value: str) -> str:
        negated = op.startswith("not") or op == "neqIgnoreCase"
        base = op[3].lower() + op[4:] if op.startswith("not") else op
        if base == "neqIgnoreCase":
            base = "eqIgnoreCase"
        if base == "eqIgnoreCase":
            self.params.append(value.lower())
            cond = f"lin_lower({expr}) = ?"
        elif base == "contains":
            self.params.append(value)
            cond = f"instr({expr}, ?) > 0"
        elif base == "containsIgnoreCase":
            self.params.append(value.lower())
            cond = f"instr(lin_lower({expr}), ?) > 0"
        elif base == "containsIgnoreCaseAndAccent":
            self.params.append(fold(value))
            cond = f"instr(lin_fold({expr}), ?) > 0"
        elif base in ("startsWith", "endsWith", "startsWithIgnoreCase"):
            self.params.append(value)
            fn = {"startsWith": "lin_starts", "endsWith": "lin_ends"}.get(base, "lin_istarts")
            cond = f"{fn}({expr}, ?)"
        else:  # pragma: no cover - the schema admits no other operator
            raise AssertionError(op)
        return f"({expr} IS NULL OR NOT {cond})" if negated else cond


def register_functions(db) -> None:
    """The SQL functions the compiled filters call (Python's Unicode-aware case rules)."""

    def lower(text):
        return text.lower() if isinstance(text, str) else text

    def folded(text):
        return fold(text) if isinstance(text, str) else text

    def starts(text, prefix):
        return isinstance(text, str) and text.startswith(prefix)

    def ends(text, suffix):
        return isinstance(text, str) and text.endswith(suffix)

    def istarts(text, prefix):
        return isinstance(text, str) and text.lower().startswith(prefix.lower())

    db.create_function("lin_lower", 1, lower, deterministic=True)
    db.create_function("lin_fold", 1, folded, deterministic=True)
    db.create_function("lin_starts", 2, starts, deterministic=True)
    db.create_function("lin_ends", 2, ends, deterministic=True)
    db.create_function("lin_istarts", 2, istarts, deterministic=True)


__all__ = ["SPECS", "Builder", "register_functions"]
