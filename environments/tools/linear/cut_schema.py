"""Cut the imitation's executable SDL (``schema.graphql``) out of Linear's own schema.

    python -m environments.tools.linear.cut_schema LINEAR_SCHEMA.graphql > \\
        environments/tools/linear/schema.graphql

``LINEAR_SCHEMA`` is ``packages/sdk/src/schema.graphql`` of linear/linear (or a subset of it
that still holds the types named in :data:`KEEP`). Every kept field keeps Linear's name, type,
arguments, description and deprecation; a field is kept only when the service resolves it, so
introspection never promises what the service cannot answer. Arguments whose types are not in
the result (``sort: [IssueSortInput!]``...) are dropped. :data:`EXTRAS` adds the types the cut
needs that are not in the subset (scalars, edges, ``Organization``, the nullable filters),
written after Linear's definitions of the same names.
"""

from __future__ import annotations

import sys
from pathlib import Path

from graphql import (
    DocumentNode,
    FieldDefinitionNode,
    InputValueDefinitionNode,
    NamedTypeNode,
    ObjectTypeDefinitionNode,
    TypeNode,
    build_ast_schema,
    parse,
    print_ast,
)

_CONNECTION_ARGS = "after before first last includeArchived orderBy"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# type -> the fields kept from Linear's definition (in Linear's order, whatever order here).
KEEP: dict[str, tuple[str, ...]] = {
    "Query": _words(
        "issues issue teams team workflowStates workflowState users user viewer issueLabels "
        "projects project cycles comments comment searchIssues organization"
    ),
    "Mutation": _words(
        "issueCreate issueUpdate issueArchive commentCreate commentUpdate issueLabelCreate "
        "issueAddLabel issueRemoveLabel"
    ),
    "Issue": _words(
        "addedToCycleAt addedToProjectAt addedToTeamAt archivedAt assignee autoArchivedAt "
        "autoClosedAt boardOrder branchName canceledAt children comments completedAt createdAt "
        "creator customerTicketCount cycle delegate description dueDate estimate id identifier "
        "labelIds labels number parent previousIdentifiers priority priorityLabel "
        "prioritySortOrder project slaBreachesAt slaHighRiskAt slaMediumRiskAt slaStartedAt "
        "slaType snoozedBy snoozedUntilAt sortOrder startedAt startedTriageAt state "
        "subIssueSortOrder subscribers team title trashed triagedAt updatedAt url"
    ),
    "IssueConnection": _words("edges nodes pageInfo"),
    "IssueEdge": _words("cursor node"),
    "Team": _words(
        "activeCycle aiDiscussionSummariesEnabled aiThreadSummariesEnabled ancestors archivedAt "
        "autoArchivePeriod autoCloseChildIssues autoCloseParentIssues autoClosePeriod "
        "autoCloseStateId children color createdAt cycleCalenderUrl cycleCooldownTime "
        "cycleDuration cycleIssueAutoAssignCompleted cycleIssueAutoAssignStarted "
        "cycleLockToActive cycleStartDay cycles cyclesEnabled defaultIssueEstimate "
        "defaultIssueState description displayName groupIssueHistory icon id "
        "inheritIssueEstimation inheritWorkflowStatuses inviteHash issueCount "
        "issueEstimationAllowZero issueEstimationExtended issueEstimationType "
        "issueOrderingNoPriorityFirst issueSortOrderDefaultToBottom issues key labels "
        "markedAsDuplicateWorkflowState members name organization parent private projects "
        "requirePriorityToLeaveTriage scimManaged setIssueSortOrderOnStateChange "
        "slackIssueComments slackIssueStatuses slackNewIssue states timezone triageEnabled "
        "triageIssueState upcomingCycleCount updatedAt"
    ),
    "TeamConnection": _words("edges nodes pageInfo"),
    "WorkflowState": _words(
        "archivedAt color createdAt description id inheritedFrom issues name position team "
        "type updatedAt"
    ),
    "WorkflowStateConnection": _words("edges nodes pageInfo"),
    "User": _words(
        "active admin app archivedAt assignedIssues avatarBackgroundColor avatarUrl "
        "canAccessAnyPublicTeam createdAt createdIssueCount createdIssues description "
        "disableReason displayName email gitHubUserId guest id initials inviteHash isAssignable "
        "isMe isMentionable lastSeen name organization owner statusEmoji statusLabel "
        "statusUntilAt supportsAgentSessions teams timezone title updatedAt url"
    ),
    "UserConnection": _words("edges nodes pageInfo"),
    "IssueLabel": _words(
        "archivedAt children color createdAt creator description id inheritedFrom isGroup "
        "issues lastAppliedAt name organization parent retiredAt retiredBy team updatedAt"
    ),
    "IssueLabelConnection": _words("edges nodes pageInfo"),
    "Project": _words(
        "archivedAt autoArchivedAt canceledAt color completedAt content createdAt creator "
        "description icon id issues labelIds lead members name priority priorityLabel "
        "prioritySortOrder progress scope slugId sortOrder startDate startedAt state status "
        "targetDate teams trashed updatedAt url"
    ),
    "ProjectConnection": _words("edges nodes pageInfo"),
    "Cycle": _words(
        "archivedAt autoArchivedAt completedAt createdAt description endsAt id inheritedFrom "
        "isActive isFuture isNext isPast isPrevious issues name number progress startsAt team "
        "updatedAt"
    ),
    "CycleConnection": _words("edges nodes pageInfo"),
    "Comment": _words(
        "archivedAt body children createdAt editedAt id issue issueId parent parentId "
        "quotedText resolvedAt resolvingUser updatedAt url user"
    ),
    "CommentConnection": _words("edges nodes pageInfo"),
    "PageInfo": _words("endCursor hasNextPage hasPreviousPage startCursor"),
    "IssuePayload": _words("issue lastSyncId success"),
    "CommentPayload": _words("comment lastSyncId success"),
    "IssueLabelPayload": _words("issueLabel lastSyncId success"),
    "IssueArchivePayload": _words("entity lastSyncId success"),
    "IssueSearchPayload": _words("edges nodes pageInfo totalCount"),
    "IssueCreateInput": _words(
        "assigneeId createdAt cycleId description dueDate estimate id labelIds parentId "
        "priority prioritySortOrder projectId sortOrder stateId subIssueSortOrder teamId title"
    ),
    "IssueUpdateInput": _words(
        "addedLabelIds assigneeId cycleId description dueDate estimate labelIds parentId "
        "priority prioritySortOrder projectId removedLabelIds sortOrder stateId "
        "subIssueSortOrder teamId title trashed"
    ),
    "CommentCreateInput": _words(
        "body createdAt doNotSubscribeToIssue id issueId parentId quotedText"
    ),
    "CommentUpdateInput": _words("body doNotSubscribeToIssue quotedText"),
    "IssueLabelCreateInput": _words("color description id isGroup name parentId teamId"),
    "IssueFilter": _words(
        "and archivedAt assignee canceledAt completedAt createdAt creator cycle description "
        "dueDate id labels number or parent priority project searchableContent startedAt state "
        "team title triagedAt updatedAt"
    ),
    "StringComparator": (),  # () keeps every field
    "NumberComparator": (),
    "NullableNumberComparator": (),
    "IDComparator": (),
    "WorkflowStateFilter": _words(
        "and createdAt description id name or position team type updatedAt"
    ),
    "TeamFilter": _words("and createdAt description id key name or private updatedAt"),
    "NullableUserFilter": _words(
        "active admin and app createdAt displayName email id isMe name null or owner updatedAt"
    ),
    "UserFilter": _words(
        "active admin and app createdAt displayName email id isMe name or owner updatedAt"
    ),
    "IssueLabelCollectionFilter": _words(
        "and createdAt creator every id isGroup length name null or parent some team updatedAt"
    ),
    "IssueLabelFilter": _words("and createdAt creator id isGroup name or parent team updatedAt"),
    "DateComparator": (),
    "NullableDateComparator": (),
    "NullableStringComparator": (),
    "PaginationOrderBy": (),
}

EXTRAS = '''
"""
Represents a date and time in ISO 8601 format. Accepts shortcuts like `2021` to represent midnight Fri Jan 01 2021. Also accepts ISO 8601 durations strings which are added to the current date to create the represented date (e.g '-P2W1D' represents the date that was two weeks and 1 day ago)
"""
scalar DateTime

"""
Represents a date in ISO 8601 format. Accepts shortcuts like `2021` to represent midnight Fri Jan 01 2021. Also accepts ISO 8601 durations strings which are added to the current date to create the represented date (e.g '-P2W1D' represents the date that was two weeks and 1 day ago)
"""
scalar TimelessDate

"""
The `JSON` scalar type represents arbitrary values as *stringified* JSON
"""
scalar JSON

"""
The `JSONObject` scalar type represents arbitrary values as *embedded* JSON
"""
scalar JSONObject

"""
Represents a date and time in ISO 8601 format, or an ISO 8601 duration relative to now (e.g. '-P2W' for two weeks ago).
"""
scalar DateTimeOrDuration

"""
Represents a date in ISO 8601 format, or an ISO 8601 duration relative to today (e.g. 'P2W' for two weeks from now).
"""
scalar TimelessDateOrDuration

interface Node {
  """The unique identifier of the entity."""
  id: ID!
}

"""A generic payload return from entity archive or deletion mutations."""
interface ArchivePayload {
  """The identifier of the last sync operation."""
  lastSyncId: Float!

  """Whether the operation was successful."""
  success: Boolean!
}

"""
An organization. Organizations are root-level objects that contain user accounts and teams.
"""
type Organization implements Node {
  """The time at which the entity was archived. Null if the entity has not been archived."""
  archivedAt: DateTime

  """The time at which the entity was created."""
  createdAt: DateTime!

  """The unique identifier of the entity."""
  id: ID!

  """The organization's logo URL."""
  logoUrl: String

  """The organization's name."""
  name: String!

  """Teams associated with the organization."""
  teams(
    """A cursor to be used with first for forward pagination"""
    after: String

    """A cursor to be used with last for backward pagination."""
    before: String

    """Filter returned teams."""
    filter: TeamFilter

    """
    The number of items to forward paginate (used with after). Defaults to 50.
    """
    first: Int

    """Should archived resources be included (default: false)"""
    includeArchived: Boolean

    """
    The number of items to backward paginate (used with before). Defaults to 50.
    """
    last: Int

    """
    By which field should the pagination order by. Available options are createdAt (default) and updatedAt.
    """
    orderBy: PaginationOrderBy
  ): TeamConnection!

  """
  The last time at which the entity was meaningfully updated. This is the same as the creation time if the entity hasn't
      been updated after creation.
  """
  updatedAt: DateTime!

  """The organization's unique URL key."""
  urlKey: String!

  """Number of active users in the organization."""
  userCount: Int!

  """Users associated with the organization."""
  users(
    """A cursor to be used with first for forward pagination"""
    after: String

    """A cursor to be used with last for backward pagination."""
    before: String

    """
    The number of items to forward paginate (used with after). Defaults to 50.
    """
    first: Int

    """Should archived resources be included (default: false)"""
    includeArchived: Boolean

    """Should query return disabled/suspended users (default: false)."""
    includeDisabled: Boolean

    """
    The number of items to backward paginate (used with before). Defaults to 50.
    """
    last: Int

    """
    By which field should the pagination order by. Available options are createdAt (default) and updatedAt.
    """
    orderBy: PaginationOrderBy
  ): UserConnection!
}

"""A project status."""
type ProjectStatus implements Node {
  """The time at which the entity was archived. Null if the entity has not been archived."""
  archivedAt: DateTime

  """The UI color of the status as a HEX string."""
  color: String!

  """The time at which the entity was created."""
  createdAt: DateTime!

  """Description of the status."""
  description: String

  """The unique identifier of the entity."""
  id: ID!

  """Whether or not a project can be in this status indefinitely."""
  indefinite: Boolean!

  """The name of the status."""
  name: String!

  """The position of the status in the workspace's project flow."""
  position: Float!

  """The type of the project status."""
  type: ProjectStatusType!

  """
  The last time at which the entity was meaningfully updated. This is the same as the creation time if the entity hasn't
      been updated after creation.
  """
  updatedAt: DateTime!
}

"""A type of project status."""
enum ProjectStatusType {
  backlog
  canceled
  completed
  paused
  planned
  started
}

"""Comparator for issue identifiers."""
input IssueIDComparator {
  """Equals constraint."""
  eq: ID

  """In-array constraint."""
  in: [ID!]

  """Not-equals constraint."""
  neq: ID

  """Not-in-array constraint."""
  nin: [ID!]
}

"""Comparator for booleans."""
input BooleanComparator {
  """Equals constraint."""
  eq: Boolean

  """Not equals constraint."""
  neq: Boolean
}

"""[Internal] Comparator for content."""
input ContentComparator {
  """[Internal] Contains constraint."""
  contains: String

  """[Internal] Not-contains constraint."""
  notContains: String
}

"""Comparator for optional timeless dates."""
input NullableTimelessDateComparator {
  """Equals constraint."""
  eq: TimelessDateOrDuration

  """Greater-than constraint. Matches any values that are greater than the given value."""
  gt: TimelessDateOrDuration

  """
  Greater-than-or-equal constraint. Matches any values that are greater than or equal to the given value.
  """
  gte: TimelessDateOrDuration

  """In-array constraint."""
  in: [TimelessDateOrDuration!]

  """Less-than constraint. Matches any values that are less than the given value."""
  lt: TimelessDateOrDuration

  """
  Less-than-or-equal constraint. Matches any values that are less than or equal to the given value.
  """
  lte: TimelessDateOrDuration

  """Not-equals constraint."""
  neq: TimelessDateOrDuration

  """Not-in-array constraint."""
  nin: [TimelessDateOrDuration!]

  """Null constraint. Matches any non-null values if the given value is false, otherwise it matches null values."""
  null: Boolean
}

"""Team filtering options."""
input NullableTeamFilter {
  """Compound filters, all of which need to be matched by the team."""
  and: [NullableTeamFilter!]

  """Comparator for the created at date."""
  createdAt: DateComparator

  """Comparator for the team description."""
  description: NullableStringComparator

  """Comparator for the identifier."""
  id: IDComparator

  """Comparator for the team key."""
  key: StringComparator

  """Comparator for the team name."""
  name: StringComparator

  """Filter based on the existence of the relation."""
  null: Boolean

  """Compound filters, one of which need to be matched by the team."""
  or: [NullableTeamFilter!]

  """Comparator for the updated at date."""
  updatedAt: DateComparator
}

"""Project filtering options."""
input ProjectFilter {
  """Compound filters, all of which need to be matched by the project."""
  and: [ProjectFilter!]

  """Comparator for the project completion date."""
  completedAt: NullableDateComparator

  """Comparator for the created at date."""
  createdAt: DateComparator

  """Comparator for the identifier."""
  id: IDComparator

  """Filters that the projects lead must satisfy."""
  lead: NullableUserFilter

  """Comparator for the project name."""
  name: StringComparator

  """Compound filters, one of which need to be matched by the project."""
  or: [ProjectFilter!]

  """Comparator for the project slug ID."""
  slugId: StringComparator

  """Comparator for the project start date."""
  startDate: NullableDateComparator

  """[DEPRECATED] Comparator for the project state."""
  state: StringComparator

  """Comparator for the project target date."""
  targetDate: NullableDateComparator

  """Comparator for the updated at date."""
  updatedAt: DateComparator
}

"""Project filtering options."""
input NullableProjectFilter {
  """Compound filters, all of which need to be matched by the project."""
  and: [NullableProjectFilter!]

  """Comparator for the project completion date."""
  completedAt: NullableDateComparator

  """Comparator for the created at date."""
  createdAt: DateComparator

  """Comparator for the identifier."""
  id: IDComparator

  """Filters that the projects lead must satisfy."""
  lead: NullableUserFilter

  """Comparator for the project name."""
  name: StringComparator

  """Filter based on the existence of the relation."""
  null: Boolean

  """Compound filters, one of which need to be matched by the project."""
  or: [NullableProjectFilter!]

  """Comparator for the project slug ID."""
  slugId: StringComparator

  """Comparator for the project start date."""
  startDate: NullableDateComparator

  """[DEPRECATED] Comparator for the project state."""
  state: StringComparator

  """Comparator for the project target date."""
  targetDate: NullableDateComparator

  """Comparator for the updated at date."""
  updatedAt: DateComparator
}

"""Cycle filtering options."""
input CycleFilter {
  """Compound filters, all of which need to be matched by the cycle."""
  and: [CycleFilter!]

  """Comparator for the cycle completed at date."""
  completedAt: DateComparator

  """Comparator for the created at date."""
  createdAt: DateComparator

  """Comparator for the cycle ends at date."""
  endsAt: DateComparator

  """Comparator for the identifier."""
  id: IDComparator

  """Comparator for the filtering active cycle."""
  isActive: BooleanComparator

  """Comparator for the filtering future cycles."""
  isFuture: BooleanComparator

  """Comparator for the filtering next cycle."""
  isNext: BooleanComparator

  """Comparator for the filtering past cycles."""
  isPast: BooleanComparator

  """Comparator for the filtering previous cycle."""
  isPrevious: BooleanComparator

  """Comparator for the cycle name."""
  name: StringComparator

  """Comparator for the cycle number."""
  number: NumberComparator

  """Compound filters, one of which need to be matched by the cycle."""
  or: [CycleFilter!]

  """Comparator for the cycle start date."""
  startsAt: DateComparator

  """Filters that the cycles team must satisfy."""
  team: TeamFilter

  """Comparator for the updated at date."""
  updatedAt: DateComparator
}

"""Cycle filtering options."""
input NullableCycleFilter {
  """Compound filters, all of which need to be matched by the cycle."""
  and: [NullableCycleFilter!]

  """Comparator for the cycle completed at date."""
  completedAt: DateComparator

  """Comparator for the created at date."""
  createdAt: DateComparator

  """Comparator for the cycle ends at date."""
  endsAt: DateComparator

  """Comparator for the identifier."""
  id: IDComparator

  """Comparator for the filtering active cycle."""
  isActive: BooleanComparator

  """Comparator for the filtering future cycles."""
  isFuture: BooleanComparator

  """Comparator for the filtering next cycle."""
  isNext: BooleanComparator

  """Comparator for the filtering past cycles."""
  isPast: BooleanComparator

  """Comparator for the filtering previous cycle."""
  isPrevious: BooleanComparator

  """Comparator for the cycle name."""
  name: StringComparator

  """Filter based on the existence of the relation."""
  null: Boolean

  """Comparator for the cycle number."""
  number: NumberComparator

  """Compound filters, one of which need to be matched by the cycle."""
  or: [NullableCycleFilter!]

  """Comparator for the cycle start date."""
  startsAt: DateComparator

  """Filters that the cycles team must satisfy."""
  team: TeamFilter

  """Comparator for the updated at date."""
  updatedAt: DateComparator
}

"""Issue filtering options."""
input NullableIssueFilter {
  """Compound filters, all of which need to be matched by the issue."""
  and: [NullableIssueFilter!]

  """Filters that the issues assignee must satisfy."""
  assignee: NullableUserFilter

  """Comparator for the created at date."""
  createdAt: DateComparator

  """Comparator for the identifier."""
  id: IssueIDComparator

  """Filter based on the existence of the relation."""
  null: Boolean

  """Comparator for the issues number."""
  number: NumberComparator

  """Compound filters, one of which need to be matched by the issue."""
  or: [NullableIssueFilter!]

  """Comparator for the issues priority. 0 = No priority, 1 = Urgent, 2 = High, 3 = Normal, 4 = Low."""
  priority: NullableNumberComparator

  """Filters that the issues state must satisfy."""
  state: WorkflowStateFilter

  """Filters that the issues team must satisfy."""
  team: TeamFilter

  """Comparator for the issues title."""
  title: StringComparator

  """Comparator for the updated at date."""
  updatedAt: DateComparator
}

"""Comment filtering options."""
input CommentFilter {
  """Compound filters, all of which need to be matched by the comment."""
  and: [CommentFilter!]

  """Comparator for the comment's body."""
  body: StringComparator

  """Comparator for the created at date."""
  createdAt: DateComparator

  """Comparator for the identifier."""
  id: IDComparator

  """Filters that the comment's issue must satisfy."""
  issue: NullableIssueFilter

  """Compound filters, one of which need to be matched by the comment."""
  or: [CommentFilter!]

  """Comparator for the updated at date."""
  updatedAt: DateComparator

  """Filters that the comment's creator must satisfy."""
  user: UserFilter
}

type TeamEdge {
  """Used in `before` and `after` args"""
  cursor: String!
  node: Team!
}

type WorkflowStateEdge {
  """Used in `before` and `after` args"""
  cursor: String!
  node: WorkflowState!
}

type UserEdge {
  """Used in `before` and `after` args"""
  cursor: String!
  node: User!
}

type IssueLabelEdge {
  """Used in `before` and `after` args"""
  cursor: String!
  node: IssueLabel!
}

type ProjectEdge {
  """Used in `before` and `after` args"""
  cursor: String!
  node: Project!
}

type CycleEdge {
  """Used in `before` and `after` args"""
  cursor: String!
  node: Cycle!
}

type CommentEdge {
  """Used in `before` and `after` args"""
  cursor: String!
  node: Comment!
}

type IssueSearchResultEdge {
  """Used in `before` and `after` args"""
  cursor: String!
  node: IssueSearchResult!
}

extend type Query {
  """One specific label."""
  issueLabel(id: String!): IssueLabel!

  """One specific cycle."""
  cycle(id: String!): Cycle!

  """[DEPRECATED] Search issues. This endpoint is deprecated and will be removed in the future – use `searchIssues` instead."""
  issueSearch(
    """A cursor to be used with first for forward pagination"""
    after: String

    """A cursor to be used with last for backward pagination."""
    before: String

    """Filter returned issues."""
    filter: IssueFilter

    """
    The number of items to forward paginate (used with after). Defaults to 50.
    """
    first: Int

    """Should archived resources be included (default: false)"""
    includeArchived: Boolean

    """
    The number of items to backward paginate (used with before). Defaults to 50.
    """
    last: Int

    """
    By which field should the pagination order by. Available options are createdAt (default) and updatedAt.
    """
    orderBy: PaginationOrderBy

    """[Deprecated] Search string to look for."""
    query: String
  ): IssueConnection! @deprecated(reason: "Use `searchIssues` instead.")
}
'''


def _named(type_node: TypeNode) -> str:
    while not isinstance(type_node, NamedTypeNode):
        type_node = type_node.type  # type: ignore[attr-defined]
    return type_node.name.value


def cut(source: str) -> str:
    """The SDL of the kept definitions plus :data:`EXTRAS`, checked to build a schema."""
    linear = parse(source)
    extras = parse(EXTRAS)
    by_name = {d.name.value: d for d in linear.definitions if hasattr(d, "name")}
    missing = [name for name in KEEP if name not in by_name]
    if missing:
        raise SystemExit(f"the source schema lacks {', '.join(missing)}")
    available = set(KEEP) | {
        d.name.value for d in extras.definitions if d.kind.endswith("_definition")
    }
    available |= {"String", "Int", "Float", "Boolean", "ID", "IssueSearchResult"}

    kept = []
    for name, fields in KEEP.items():
        node = by_name[name]
        members = getattr(node, "fields", None)
        if members is None:  # an enum: kept whole
            kept.append(node)
            continue
        chosen = []
        for field in members:
            if fields and field.name.value not in fields:
                continue
            if _named(field.type) not in available:
                raise SystemExit(f"{name}.{field.name.value}: type {_named(field.type)} not kept")
            if isinstance(field, FieldDefinitionNode):
                args = tuple(a for a in field.arguments or () if _named(a.type) in available)
                field = FieldDefinitionNode(
                    name=field.name,
                    description=field.description,
                    arguments=args,
                    type=field.type,
                    directives=field.directives,
                )
            else:
                assert isinstance(field, InputValueDefinitionNode)
            chosen.append(field)
        unknown = set(fields) - {f.name.value for f in chosen}
        if unknown:
            raise SystemExit(f"{name}: no field(s) {', '.join(sorted(unknown))} in the source")
        interfaces = tuple(
            i for i in getattr(node, "interfaces", None) or () if i.name.value in available
        )
        kwargs = {"name": node.name, "description": node.description, "directives": node.directives}
        if isinstance(node, ObjectTypeDefinitionNode):
            kwargs["interfaces"] = interfaces
        kept.append(type(node)(**kwargs, fields=tuple(chosen)))
        if name == "Issue":
            kept.append(_search_result(kept[-1]))

    document = DocumentNode(definitions=(*kept, *extras.definitions))
    build_ast_schema(document)  # raises on anything inconsistent
    header = (
        "# Linear's GraphQL schema as the local imitation serves it: cut from Linear's own\n"
        "# schema (linear/linear packages/sdk/src/schema.graphql) by\n"
        "# `python -m environments.tools.linear.cut_schema`. Do not edit by hand.\n\n"
    )
    return header + print_ast(document) + "\n"


def _search_result(issue: ObjectTypeDefinitionNode) -> ObjectTypeDefinitionNode:
    """``IssueSearchResult``: every Issue field plus the search ``metadata``."""
    metadata = parse(
        'type X {\n  """Metadata related to search result."""\n  metadata: JSONObject!\n}'
    )
    extra = metadata.definitions[0].fields  # type: ignore[attr-defined]
    fields = sorted((*issue.fields, *extra), key=lambda f: f.name.value)
    return ObjectTypeDefinitionNode(
        name=type(issue.name)(value="IssueSearchResult"),
        description=None,
        interfaces=issue.interfaces,
        directives=(),
        fields=tuple(fields),
    )


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    sys.stdout.write(cut(Path(argv[0]).read_text(encoding="utf-8")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
