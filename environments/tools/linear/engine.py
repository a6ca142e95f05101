"""The GraphQL engine: the schema, cached documents, limits, execution and Linear's errors.

graphql-core parses, validates and coerces variables; each distinct query text is parsed and
validated once (an LRU cache), since clients send the same few queries over and over.
Introspection runs on graphql-core's executor (and its answers are cached, the schema never
changes); every other operation runs on :mod:`.fastexec`, a compact executor for this
schema's plain object types with the same results (tests compare the two).

Errors come out the way Linear sends them: ``{message, locations, path, extensions: {type,
code, statusCode, userError, userPresentableMessage}}``; parse and validation failures are
HTTP 400, authentication failures 401, a request whose every field failed takes its first
error's status, anything partial is 200.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    ValueNode,
    build_schema,
    execute_sync,
    parse,
    validate,
)
from graphql.execution import get_variable_values

from environments.tools.linear import fastexec
from environments.tools.linear.complexity import MAX_COMPLEXITY, MAX_DEPTH, complexity, depth
from environments.tools.linear.model import (
    LinearError,
    authentication_error,
    date_or_duration,
    datetime_or_duration,
)
from environments.tools.linear.resolvers import bind

log = logging.getLogger("prodbench.tools")

SCHEMA_FILE = Path(__file__).with_name("schema.graphql")
MAX_TOKENS = 15_000
CACHE_SIZE = 512
BOUND_PER_DOCUMENT = 16
BOUND_TTL = 60.0
INTROSPECTION_FIELDS = frozenset({"__schema", "__type", "__typename"})


class RequestError(Exception):
    """A request that fails before execution (bad body, parse or validation error...)."""

    def __init__(self, errors: list[dict[str, Any]], status: int = 400):
        super().__init__(errors[0]["message"] if errors else "bad request")
        self.errors = errors
        self.status = status


def graphql_error(
    message: str,
    *,
    code: str = "GRAPHQL_VALIDATION_FAILED",
    kind: str = "graphql error",
    status: int = 400,
    locations: list[dict[str, int]] | None = None,
    user_message: str | None = None,
) -> dict[str, Any]:
    """One error entry in Linear's shape."""
    entry: dict[str, Any] = {"message": message}
    if locations:
        entry["locations"] = locations
    entry["extensions"] = {
        "type": kind,
        "code": code,
        "statusCode": status,
        "userError": status < 500,
        "userPresentableMessage": user_message or message,
    }
    return entry


@dataclass(frozen=True)
class Request:
    """What a client asked for: the query text, its variables, the operation to run."""

    query: str
    variables: Mapping[str, Any]
    operation_name: str | None
    method: str = "POST"


@dataclass(frozen=True)
class Prepared:
    """A parsed, validated document and what the engine needs to know about it."""

    document: DocumentNode
    operations: dict[str | None, OperationDefinitionNode]
    introspection: frozenset[str | None]  # operations that only introspect
    bound: OrderedDict[tuple, Bound] = field(default_factory=OrderedDict, compare=False)


@dataclass(frozen=True)
class Bound:
    """An operation with one set of variables: coerced, scored and planned once.

    Kept for :data:`BOUND_TTL` seconds only: durations like ``-P2W`` are turned into times
    when coerced, and must not drift far from "now".
    """

    variables: Any  # graphql-core's VariableValues
    score: float
    plans: fastexec.Plans
    made: float


# -- scalars ----------------------------------------------------------------------------------


def _string_literal(parse_value):
    def parse_literal(node: ValueNode, _variables=None):
        if not isinstance(node, StringValueNode):
            raise GraphQLError("expected a string")
        return parse_value(node.value)

    return parse_literal


def _checked(fn, what: str):
    def parse_value(value: Any):
        if not isinstance(value, str):
            raise GraphQLError(f"{what} must be a string, not {type(value).__name__}")
        try:
            return fn(value, time.time())
        except (ValueError, OverflowError, OSError):
            raise GraphQLError(f"{what} cannot represent {value[:60]!r}") from None

    return parse_value


def _year_shortcuts(fn):
    """Linear reads ``2021`` / ``2021-04`` as the first moment of that year / month."""

    def parse(value: str, now: float):
        text = value.strip()
        if len(text) == 4 and text.isdigit():
            text += "-01-01"
        elif len(text) == 7 and text[:4].isdigit() and text[4] == "-" and text[5:].isdigit():
            text += "-01"
        return fn(text, now)

    return parse


def install_scalars(schema: GraphQLSchema) -> None:
    for name, fn in (
        ("DateTime", _year_shortcuts(datetime_or_duration)),
        ("DateTimeOrDuration", _year_shortcuts(datetime_or_duration)),
        ("TimelessDate", _year_shortcuts(date_or_duration)),
        ("TimelessDateOrDuration", _year_shortcuts(date_or_duration)),
    ):
        scalar = schema.type_map[name]
        parse_value = _checked(fn, name)
        scalar.parse_value = parse_value  # type: ignore[method-assign]
        scalar.parse_literal = _string_literal(parse_value)  # type: ignore[method-assign]
        scalar.serialize = _identity  # type: ignore[method-assign]
    for name in ("JSON", "JSONObject"):
        schema.type_map[name].serialize = _identity  # type: ignore[method-assign]


def _identity(value: Any) -> Any:
    return value


# -- the engine -------------------------------------------------------------------------------


class Engine:
    """One schema, its document cache, and request execution."""

    def __init__(self) -> None:
        self.schema = build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))
        install_scalars(self.schema)
        bind(self.schema)
        self._documents: OrderedDict[str, Prepared | RequestError] = OrderedDict()
        self._introspection: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.use_fast_path = True

    # -- documents ---------------------------------------------------------------------------

    def prepare(self, query: str) -> Prepared:
        """The document for ``query`` (parsed and validated once); RequestError if invalid."""
        cached = self._documents.get(query)
        if cached is None:
            cached = self._prepare(query)
            self._documents[query] = cached
            if len(self._documents) > CACHE_SIZE:
                self._documents.popitem(last=False)
        else:
            self._documents.move_to_end(query)
        if isinstance(cached, RequestError):
            raise cached
        return cached

    def _prepare(self, query: str) -> Prepared | RequestError:
        try:
            document = parse(query, max_tokens=MAX_TOKENS)
        except GraphQLError as exc:
            return RequestError(
                [graphql_error(exc.message, code="GRAPHQL_PARSE_FAILED", locations=_locations(exc))]
            )
        except RecursionError:
            return RequestError([graphql_error("Query is nested too deeply.")])
        if depth(document) > MAX_DEPTH:
            return RequestError(
                [graphql_error(f"Query is nested too deeply (more than {MAX_DEPTH} levels).")]
            )
        try:
            errors = validate(self.schema, document, max_errors=20)
        except RecursionError:
            return RequestError([graphql_error("Query is nested too deeply.")])
        if errors:
            return RequestError([graphql_error(e.message, locations=_locations(e)) for e in errors])
        operations: dict[str | None, OperationDefinitionNode] = {}
        introspection = set()
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                name = definition.name.value if definition.name else None
                operations[name] = definition
                if _introspects_only(definition, fragments):
                    introspection.add(name)
        if len(operations) == 1:
            only = next(iter(operations.values()))
            operations.setdefault(None, only)
            if next(iter(operations)) in introspection:
                introspection.add(None)
        return Prepared(document, operations, frozenset(introspection))

    # -- execution ---------------------------------------------------------------------------

    def run(self, request: Request, service, token: str | None) -> tuple[int, dict[str, Any]]:
        """Execute one request; returns (HTTP status, response body)."""
        try:
            return self._run(request, service, token)
        except RequestError as exc:
            return exc.status, {"errors": exc.errors}

    def _run(self, request: Request, service, token: str | None) -> tuple[int, dict[str, Any]]:
        prepared = self.prepare(request.query)
        name = request.operation_name or None
        operation = prepared.operations.get(name)
        if operation is None:
            message = (
                f"Unknown operation named '{name}'."
                if name
                else "Must provide operation name if query contains multiple operations."
            )
            raise RequestError([graphql_error(message)])
        viewer = service.authenticate(token)
        if viewer is None and (token or name not in prepared.introspection):
            error = authentication_error(
                "You need to authenticate to access this operation."
                if not token
                else "Your API key or OAuth token is not valid; check the Authorization header."
            )
            raise RequestError([_linear_entry(error)], status=401)
        if operation.operation == OperationType.SUBSCRIPTION:
            raise RequestError([graphql_error("Subscriptions are not supported over HTTP.")])
        if operation.operation == OperationType.MUTATION and request.method != "POST":
            raise RequestError(
                [
                    graphql_error(
                        "Mutations must be sent with POST.", code="METHOD_NOT_ALLOWED", status=405
                    )
                ],
                status=405,
            )
        bound = self.bind(prepared, operation, name, request.variables)
        coerced = bound.variables
        if bound.score > MAX_COMPLEXITY:
            raise RequestError(
                [
                    graphql_error(
                        f"Query too complex: complexity {bound.score:.0f} is above the limit of "
                        f"{MAX_COMPLEXITY:.0f}; ask for fewer fields or smaller pages "
                        "(first/last).",
                        code="QUERY_TOO_COMPLEX",
                    )
                ]
            )
        if name in prepared.introspection:
            return 200, self._introspect(request, prepared, coerced)
        return service.execute(
            lambda context: self._execute(prepared, operation, request, bound, context),
            write=operation.operation == OperationType.MUTATION,
            viewer=viewer,
        )

    def _introspect(self, request: Request, prepared: Prepared, coerced) -> dict[str, Any]:
        key = json.dumps(
            [request.query, request.operation_name, coerced.coerced], sort_keys=True, default=str
        )
        cached = self._introspection.get(key)
        if cached is None:
            result = execute_sync(
                self.schema,
                prepared.document,
                None,
                None,
                dict(request.variables),
                request.operation_name,
            )
            cached = {"data": result.data}
            if result.errors:
                cached["errors"] = [graphql_error(e.message) for e in result.errors]
            self._introspection[key] = cached
            if len(self._introspection) > 64:
                self._introspection.popitem(last=False)
        return cached

    def bind(self, prepared: Prepared, operation, name: str | None, variables) -> Bound:
        """The operation bound to these variables (cached); RequestError if they are invalid."""
        try:
            key: tuple | None = (name, json.dumps(variables, sort_keys=True, allow_nan=False))
        except (TypeError, ValueError):
            key = None
        now = time.monotonic()
        bound = prepared.bound.get(key) if key is not None else None
        if bound is not None and now - bound.made < BOUND_TTL:
            return bound
        coerced = get_variable_values(
            self.schema, operation.variable_definitions or (), dict(variables), max_errors=20
        )
        if isinstance(coerced, list):
            raise RequestError([graphql_error(e.message, locations=_locations(e)) for e in coerced])
        score = complexity(self.schema, prepared.document, operation, coerced.coerced)
        bound = Bound(coerced, score, fastexec.Plans(self.schema, prepared.document, coerced), now)
        if key is not None:
            prepared.bound[key] = bound
            prepared.bound.move_to_end(key)
            if len(prepared.bound) > BOUND_PER_DOCUMENT:
                prepared.bound.popitem(last=False)
        return bound

    def _execute(self, prepared, operation, request, bound: Bound, context) -> tuple[int, dict]:
        if self.use_fast_path:
            data, errors = fastexec.execute(bound.plans, operation, context)
        else:
            result = execute_sync(
                self.schema,
                prepared.document,
                None,
                context,
                dict(request.variables),
                request.operation_name,
            )
            data, errors = result.data, list(result.errors or ())
        return shape_result(data, errors)


def shape_result(data: Any, errors: list[GraphQLError]) -> tuple[int, dict[str, Any]]:
    """The response body and status for an executed operation."""
    body: dict[str, Any] = {"data": data}
    if not errors:
        return 200, body
    entries = [format_error(e) for e in errors]
    body["errors"] = entries
    statuses = [e["extensions"]["statusCode"] for e in entries]
    if any(s >= 500 for s in statuses):
        return 500, body
    if data is None:
        return statuses[0], body
    return 200, body


def format_error(error: GraphQLError) -> dict[str, Any]:
    original = error.original_error
    if isinstance(original, LinearError):
        entry = _linear_entry(original)
    else:
        if original is not None:
            log.error(
                "linear: resolver failed at %s",
                error.path,
                exc_info=(type(original), original, original.__traceback__),
            )
        else:
            log.error("linear: execution error at %s: %s", error.path, error.message)
        entry = graphql_error(
            "Internal server error",
            code="INTERNAL_SERVER_ERROR",
            kind="internal error",
            status=500,
            user_message="The request failed unexpectedly; see the service log.",
        )
    located: dict[str, Any] = {"message": entry["message"]}
    if error.locations:
        located["locations"] = _locations(error)
    if error.path:
        located["path"] = list(error.path)
    located["extensions"] = entry["extensions"]
    return located


def _linear_entry(error: LinearError) -> dict[str, Any]:
    return {"message": error.message, "extensions": error.extensions()}


def _locations(error: GraphQLError) -> list[dict[str, int]]:
    return [{"line": loc.line, "column": loc.column} for loc in error.locations or ()]


def _introspects_only(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> bool:
    """True when every root field is ``__schema``, ``__type`` or ``__typename``."""
    if operation.operation != OperationType.QUERY:
        return False
    pending = [operation.selection_set]
    seen: set[str] = set()
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                if selection.name.value not in INTROSPECTION_FIELDS:
                    return False
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    pending.append(fragments[name].selection_set)
    return True


__all__ = ["Engine", "Request", "RequestError", "graphql_error", "shape_result"]
