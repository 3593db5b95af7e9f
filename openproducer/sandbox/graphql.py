"""The GraphQL subset the bot uses (`POST /graphql`), validated against GitHub's published schema.

Documents are parsed and validated with graphql-core against `graphql-schema.graphql.gz`
(GitHub's public schema as octokit/graphql-schema publishes it), then executed on the same
store as the REST routes. Answers and errors have GitHub's shapes: a 200 whose body carries
``errors`` (each with a ``type`` such as NOT_FOUND, FORBIDDEN, UNPROCESSABLE), and ``data``
with null where a field failed.
https://docs.github.com/en/graphql/guides/forming-calls-with-graphql
"""

from __future__ import annotations

import functools
import gzip
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    build_schema,
    execute_sync,
    parse,
    validate,
)

from .errors import ApiError
from .model import Issue, Json, Label, Milestone, Repo, User, build_node_id, parse_node_id
from .shapes import Renderer
from .store import Actor, Store

SCHEMA = Path(__file__).with_name("graphql-schema.graphql.gz")
# What a GitHub without sub-issues lacks: the field that creates an issue under a parent.
PARENT_FIELD = re.compile(
    r'\n  """\n  The Node ID of the parent issue[^"]*"""\n  parentIssueId: ID\n'
)
# graphql-core 3.3 rejects a deprecated field implementing a live interface field, which the
# published schema has (Project.id, ...); deprecation does not change what is valid, so it goes.
DEPRECATED = re.compile(r'@deprecated(\(\s*reason:\s*"(?:[^"\\]|\\.)*"\s*\))?')
STATUS_TYPES = {401: "FORBIDDEN", 403: "FORBIDDEN", 404: "NOT_FOUND", 422: "UNPROCESSABLE"}


@functools.cache
def load_schema(*, sub_issues: bool = True) -> GraphQLSchema:
    """GitHub's schema (the published SDL repeats a few fields, so it is not re-validated)."""
    sdl = gzip.decompress(SCHEMA.read_bytes()).decode()
    if not sub_issues:
        sdl = PARENT_FIELD.sub("\n", sdl, count=1)
    sdl = DEPRECATED.sub("", sdl)
    return build_schema(sdl, assume_valid_sdl=True)


class QueryError(Exception):
    """A field that failed, with GitHub's error `type`."""

    def __init__(self, type: str, message: str) -> None:
        super().__init__(message)
        self.type = type


@dataclass(frozen=True)
class Document:
    """A parsed request: its document, variables, and whether it is a mutation."""

    document: DocumentNode | None
    variables: dict[str, Any]
    operation: str | None
    fields: tuple[str, ...]  # the root fields, e.g. ("createIssue",)
    mutation: bool
    syntax_error: GraphQLError | None = None


def parse_request(body: Any) -> Document:
    """The GraphQL request in a POST body; a syntax error is kept for the answer."""
    payload = body if isinstance(body, dict) else {}
    variables = payload.get("variables")
    operation = payload.get("operationName")
    try:
        document = parse(str(payload.get("query") or ""))
    except GraphQLError as error:
        return Document(None, {}, None, (), False, error)
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = next((d for d in ops if operation and d.name and d.name.value == operation), None)
    chosen = chosen or (ops[0] if ops else None)
    selections = chosen.selection_set.selections if chosen else ()
    fields = tuple(s.name.value for s in selections if isinstance(s, FieldNode))
    mutation = chosen is not None and chosen.operation == OperationType.MUTATION
    return Document(
        document,
        variables if isinstance(variables, dict) else {},
        operation if isinstance(operation, str) else None,
        fields,
        mutation,
    )


def answer(
    request: Document, *, store: Store, render: Renderer, actor: Actor, sub_issues: bool
) -> Json:
    """The JSON body of the 200 GitHub sends for a GraphQL request."""
    if request.syntax_error is not None or request.document is None:
        error = request.syntax_error
        return {"errors": [{"message": error.message if error else "A query is required"}]}
    schema = load_schema(sub_issues=sub_issues)
    invalid = validate(schema, request.document)
    if invalid:
        return {"errors": [_validation_error(e) for e in invalid]}
    root = _Root(store, render, actor)
    result = execute_sync(
        schema,
        request.document,
        root_value=root.mutation() if request.mutation else root.query(),
        variable_values=request.variables,
        operation_name=request.operation,
    )
    body: Json = {"data": result.data}
    if result.errors:
        body["errors"] = [_execution_error(e) for e in result.errors]
    return body


def _validation_error(error: GraphQLError) -> Json:
    locations = [{"line": loc.line, "column": loc.column} for loc in error.locations or ()]
    return {"message": error.message, "locations": locations, "extensions": {"code": "invalid"}}


def _execution_error(error: GraphQLError) -> Json:
    original = error.original_error
    if isinstance(original, QueryError):
        kind = original.type
    elif isinstance(original, ApiError):
        kind = STATUS_TYPES.get(original.status, "UNPROCESSABLE")
    else:
        kind = "INTERNAL" if original is not None else "UNPROCESSABLE"
    locations = [{"line": loc.line, "column": loc.column} for loc in error.locations or ()]
    return {
        "type": kind,
        "path": list(error.path or ()),
        "locations": locations,
        "message": _message(original) or error.message,
    }


def _message(error: BaseException | None) -> str:
    """A REST rule's words, with its details (field, code, message), without the status."""
    if isinstance(error, ApiError):
        return str(error).removeprefix(f"{error.status} ")
    return str(error) if isinstance(error, QueryError) else ""


_Record = TypeVar("_Record", Repo, Label, User, Milestone)


def _by_node(node_id: Any, prefixes: tuple[str, ...], records: Iterable[_Record]) -> _Record:
    """The record a node id names (its prefix says which kind), or GitHub's NOT_FOUND."""
    parsed = parse_node_id(node_id)
    if parsed is not None and parsed[0] in prefixes:
        for record in records:
            if record.id == parsed[1]:
                return record
    raise _no_node(node_id)


def _no_node(node_id: Any) -> QueryError:
    return QueryError("NOT_FOUND", f"Could not resolve to a node with the global id of '{node_id}'")


class _Root:
    """Resolvers: dicts whose callables graphql-core's default resolver calls with the args."""

    def __init__(self, store: Store, render: Renderer, actor: Actor) -> None:
        self.store, self.render, self.actor = store, render, actor

    def query(self) -> Json:
        return {
            "repository": self.repository,
            "user": self.user,
            "node": self.node,
            "viewer": lambda _info: self._user(self.actor.user) if self.actor.user else None,
        }

    def mutation(self) -> Json:
        return {"createIssue": self.create_issue}

    # queries ----------------------------------------------------------------------------------

    def repository(self, _info: Any, owner: str, name: str, **_: Any) -> Json:
        try:
            repo = self.store.visible_repo(f"{owner}/{name}", self.actor)
        except ApiError:
            message = f"Could not resolve to a Repository with the name '{owner}/{name}'."
            raise QueryError("NOT_FOUND", message) from None
        return self._repo(repo)

    def user(self, _info: Any, login: str) -> Json:
        found = self.store.users.get(login.lower())
        if found is None:
            message = f"Could not resolve to a User with the login of '{login}'."
            raise QueryError("NOT_FOUND", message)
        return self._user(found)

    def node(self, _info: Any, id: str) -> Json | None:
        found = self._issue_by_node(id)
        return self._issue(found) if found else None

    # mutations --------------------------------------------------------------------------------

    def create_issue(self, _info: Any, input: Json) -> Json:
        """https://docs.github.com/en/graphql/reference/mutations#createissue; with
        ``parentIssueId`` the new issue is a sub-issue at once (checked before it exists)."""
        repo = self._repo_by_node(input["repositoryId"])
        self.store.require(repo, self.actor, "read")
        parent = self._parent(input.get("parentIssueId"))
        payload: Json = {"title": input["title"], "body": input.get("body")}
        if input.get("labelIds") is not None:
            payload["labels"] = [self._label(repo, i).name for i in input["labelIds"]]
        if input.get("assigneeIds") is not None:
            payload["assignees"] = [self._user_by_node(i).login for i in input["assigneeIds"]]
        if input.get("milestoneId") is not None:
            payload["milestone"] = self._milestone(repo, input["milestoneId"]).number
        privileged = self.store.has_role(repo, self.actor, "write")
        assert self.actor.login is not None  # `require` let only users through
        if parent is not None:
            self.store.require(self.store.repos[parent.repo], self.actor, "write")
            self.store.check_new_sub_issue(parent, repo)
        issue = self.store.create_issue(repo, self.actor.login, payload, privileged=privileged)
        if parent is not None:
            self.store.add_sub_issue(parent, {"sub_issue_id": issue.id})
        return {"clientMutationId": input.get("clientMutationId"), "issue": self._issue(issue)}

    # node ids ---------------------------------------------------------------------------------

    def _repo_by_node(self, node_id: Any) -> Repo:
        repos = [r for r in self.store.repos.values() if self.store.has_role(r, self.actor, "read")]
        return _by_node(node_id, ("R",), repos)

    def _issue_by_node(self, node_id: Any) -> Issue | None:
        parsed = parse_node_id(node_id)
        issue = self.store.issues_by_id.get(parsed[1]) if parsed and parsed[0] == "I" else None
        if issue is None:
            return None
        visible = self.store.has_role(self.store.repos[issue.repo], self.actor, "read")
        return issue if visible else None

    def _parent(self, node_id: Any) -> Issue | None:
        if node_id is None:
            return None
        found = self._issue_by_node(node_id)
        if found is None:
            raise _no_node(node_id)
        return found

    def _label(self, repo: Repo, node_id: Any) -> Label:
        return _by_node(node_id, ("LA",), repo.labels.values())

    def _user_by_node(self, node_id: Any) -> User:
        return _by_node(node_id, ("U", "BOT"), self.store.users.values())

    def _milestone(self, repo: Repo, node_id: Any) -> Milestone:
        return _by_node(node_id, ("MI",), repo.milestones.values())

    # shapes -----------------------------------------------------------------------------------

    def _repo(self, repo: Repo) -> Json:
        def issue(_info: Any, number: int) -> Json:
            found = repo.issues.get(number)
            if found is None:
                message = f"Could not resolve to an Issue with the number of {number}."
                raise QueryError("NOT_FOUND", message)
            return self._issue(found)

        def label(_info: Any, name: str) -> Json | None:
            found = repo.labels.get(name.lower())
            return {"id": build_node_id("LA", found.id), "name": found.name} if found else None

        def milestone(_info: Any, number: int) -> Json | None:
            found = repo.milestones.get(number)
            if found is None:
                return None
            return {
                "id": build_node_id("MI", found.id),
                "number": found.number,
                "title": found.title,
            }

        return {
            "__typename": "Repository",
            "id": build_node_id("R", repo.id),
            "databaseId": repo.id,
            "name": repo.name,
            "nameWithOwner": repo.full_name,
            "issue": issue,
            "label": label,
            "milestone": milestone,
        }

    def _user(self, user: User) -> Json:
        bot = user.type == "Bot"
        return {
            "__typename": "Bot" if bot else "User",
            "id": build_node_id("BOT" if bot else "U", user.id),
            "databaseId": user.id,
            # GraphQL names a bot without the "[bot]" that REST appends.
            "login": user.login.removesuffix("[bot]"),
        }

    def _issue(self, issue: Issue) -> Json:
        rest = self.render.issue(issue)
        summary = rest.get("sub_issues_summary") or {}
        parent = self.store.issues_by_id.get(issue.parent) if issue.parent else None
        return {
            "__typename": "Issue",
            "id": rest["node_id"],
            "databaseId": issue.id,
            "number": issue.number,
            "title": issue.title,
            "body": issue.body or "",
            "url": rest["html_url"],
            "state": issue.state.upper(),
            "stateReason": issue.state_reason.upper() if issue.state_reason else None,
            "createdAt": rest["created_at"],
            "updatedAt": rest["updated_at"],
            "author": self._user(self.store.user(issue.author)),
            "parent": self._issue(parent) if parent else None,
            "subIssuesSummary": {
                "total": summary.get("total", len(issue.children)),
                "completed": summary.get("completed", 0),
                "percentCompleted": summary.get("percent_completed", 0),
            },
        }
