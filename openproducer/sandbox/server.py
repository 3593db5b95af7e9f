"""`GitHubEmulator`: the loopback HTTP server around the store, with faults and rate limits.

The HTTP handler only moves bytes; `GitHubEmulator.handle` decides the answer. Use it as a
context manager, then point PyGithub at `base_url`:

    with GitHubEmulator() as emu:
        emu.add_repo("octo/demo")
        gh = Github(base_url=emu.base_url, auth=Auth.Token(emu.token_for("octo")))
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

from .errors import ApiError
from .faults import (
    PRIMARY_LIMIT_MESSAGE,
    SECONDARY_LIMIT_MESSAGE,
    WRITE_METHODS,
    Fault,
    FaultQueue,
    LimitReached,
    RateCounter,
    SecondaryLimiter,
)
from .graphql import Document, answer, parse_request
from .model import ACTIONS_LOGIN, Json
from .paging import build_link_header, parse_page, slice_page
from .routes import Ctx, Reply, Request, find_route
from .shapes import Renderer, build_rate_limit
from .store import Actor, Store

GRAPHQL_PATH = "/graphql"
RATE_LIMITS = {"anonymous": 60, "installation": 1000, "user": 5000}


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str  # without the query
    query: str
    status: int  # 0 when the connection was dropped without an answer
    login: str | None
    time: float  # time.monotonic() when the request arrived
    graphql: str = ""  # a GraphQL request's kind and root fields, e.g. "mutation createIssue"

    @property
    def creates_content(self) -> bool:
        """A write as GitHub's secondary limits count them: REST writes and GraphQL mutations."""
        if self.graphql:
            return self.graphql.startswith("mutation")
        return self.method in WRITE_METHODS


@dataclass(frozen=True)
class Outcome:
    status: int
    headers: dict[str, str]
    body: bytes
    drop: bool = False


class GitHubEmulator:
    ACTIONS_LOGIN = ACTIONS_LOGIN

    def __init__(
        self,
        *,
        latency: float = 0.0,
        secondary_limit_per_minute: int | None = None,
        secondary_limit_per_hour: int | None = None,
        primary_limit: int | None = None,
        sub_issues: bool = True,
        dependencies: bool = True,
        graphql: bool = True,
        port: int = 0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.latency = latency
        # Requests an hour per identity, enforced as GitHub does (None: reported, not enforced).
        self.primary_limit = primary_limit
        # Not `self.sub_issues`: that name is the inspection method.
        self.sub_issues_enabled = sub_issues
        self.dependencies_enabled = dependencies
        self.graphql_enabled = graphql
        self.store = Store(clock=clock) if clock else Store()
        self.requests: list[RequestRecord] = []
        self.base_url = ""
        self.server_url = ""
        self._port = port
        self._faults = FaultQueue()
        self._limiter = SecondaryLimiter(
            per_minute=secondary_limit_per_minute,
            per_hour=secondary_limit_per_hour,
            clock=time.monotonic,
        )
        self._rates = RateCounter(clock=time.time)
        self._records_lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._render = Renderer(self.store, "", "", sub_issues, dependencies)

    # lifecycle --------------------------------------------------------------------------------

    def start(self) -> str:
        if self._server is not None:
            return self.base_url
        server = _Server(("127.0.0.1", self._port), _Handler)
        server.emulator = self
        host, port = server.server_address[:2]
        self.base_url = self.server_url = f"http://{host!s}:{port}"
        self._render = Renderer(
            self.store,
            self.base_url,
            self.server_url,
            self.sub_issues_enabled,
            self.dependencies_enabled,
        )
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.01,), name="github-emulator"
        )
        self._thread.daemon = True
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def __enter__(self) -> GitHubEmulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # set-up -----------------------------------------------------------------------------------

    def add_user(self, login: str, *, type: str = "User") -> Json:
        with self.store.lock:
            return self._render.user(self.store.add_user(login, type=type))

    def token_for(self, login: str) -> str:
        with self.store.lock:
            return self.store.token_for(login)

    def actions_token(self) -> str:
        with self.store.lock:
            return self.store.actions_token()

    def add_repo(
        self, full_name: str, *, private: bool = False, default_labels: bool = True
    ) -> Json:
        with self.store.lock:
            repo = self.store.add_repo(full_name, private=private, default_labels=default_labels)
            return self._render.repo(repo, repo.owner)

    def add_file(self, full_name: str, path: str, text: str, *, branch: str = "") -> str:
        """Commit one file to the repository (default branch unless named); the commit's sha."""
        with self.store.lock:
            return self.store.commit_file(self.store.repo(full_name), path, text, branch=branch)

    def set_permission(self, full_name: str, login: str, permission: str) -> None:
        with self.store.lock:
            self.store.set_permission(self.store.repo(full_name), login, permission)

    def create_issue(
        self,
        full_name: str,
        *,
        author: str,
        title: str,
        body: str = "",
        labels: Sequence[str] = (),
    ) -> Json:
        with self.store.lock:
            repo = self.store.repo(full_name)
            login = self.store.add_user(author).login
            payload = {"title": title, "body": body, "labels": list(labels)}
            issue = self.store.create_issue(repo, login, payload, privileged=True)
            return self._render.issue(issue)

    def create_comment(self, full_name: str, number: int, *, author: str, body: str) -> Json:
        with self.store.lock:
            repo = self.store.repo(full_name)
            login = self.store.add_user(author).login
            comment = self.store.create_comment(repo, self.store.issue(repo, number), login, body)
            return self._render.comment(comment)

    def edit_comment(self, full_name: str, comment_id: int, *, body: str) -> Json:
        with self.store.lock:
            comment = self.store.comment(self.store.repo(full_name), comment_id)
            return self._render.comment(self.store.edit_comment(comment, body))

    def delete_comment(self, full_name: str, comment_id: int) -> None:
        """What a moderator deleting a comment does, without permission checks."""
        with self.store.lock:
            repo = self.store.repo(full_name)
            self.store.delete_comment(repo, self.store.comment(repo, comment_id))

    def edit_issue(self, full_name: str, number: int, **fields: Any) -> Json:
        """PATCH semantics without permission checks; `actor=` names who closes (default owner);
        `locked=True` locks the issue."""
        with self.store.lock:
            repo = self.store.repo(full_name)
            actor = self.store.add_user(fields.pop("actor", repo.owner)).login
            issue = self.store.issue(repo, number)
            self.store.update_issue(repo, issue, actor, fields, privileged=True)
            return self._render.issue(issue)

    # inspection -------------------------------------------------------------------------------

    def issues(self, full_name: str) -> list[Json]:
        with self.store.lock:
            repo = self.store.repo(full_name)
            return [self._render.issue(repo.issues[n]) for n in sorted(repo.issues)]

    def issue(self, full_name: str, number: int) -> Json:
        with self.store.lock:
            repo = self.store.repo(full_name)
            return self._render.issue(self.store.issue(repo, number))

    def comments(self, full_name: str, number: int) -> list[Json]:
        with self.store.lock:
            issue = self.store.issue(self.store.repo(full_name), number)
            return [self._render.comment(self.store.comments_by_id[i]) for i in issue.comments]

    def reactions(self, full_name: str, number: int) -> list[Json]:
        with self.store.lock:
            issue = self.store.issue(self.store.repo(full_name), number)
            return [self._render.reaction(r) for r in issue.reactions]

    def comment_reactions(self, full_name: str, comment_id: int) -> list[Json]:
        with self.store.lock:
            comment = self.store.comment(self.store.repo(full_name), comment_id)
            return [self._render.reaction(r) for r in comment.reactions]

    def sub_issues(self, full_name: str, number: int) -> list[Json]:
        with self.store.lock:
            issue = self.store.issue(self.store.repo(full_name), number)
            return [self._render.issue(i) for i in self.store.children_of(issue)]

    def blocked_by(self, full_name: str, number: int) -> list[Json]:
        with self.store.lock:
            issue = self.store.issue(self.store.repo(full_name), number)
            return [self._render.issue(i) for i in self.store.blockers(issue)]

    def reset_primary_limit(self) -> None:
        """Let the hour pass: every identity has its whole primary limit again."""
        self._rates.reset()

    def reset_requests(self) -> None:
        with self._records_lock:
            self.requests.clear()

    def inject(self, fault: Fault) -> None:
        self._faults.add(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def secondary_limit_hits(self) -> int:
        return self._limiter.hits

    # requests ---------------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: str, authorization: str | None, data: bytes
    ) -> Outcome:
        """Answer one request: latency, then an injected fault or the real thing."""
        arrived = time.monotonic()
        if self.latency:
            time.sleep(self.latency)
        document = parse_request(_parse_body(data)) if path == GRAPHQL_PATH else None
        fault = self._faults.take(method, _fault_path(path, document))
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        login = self._login_for(authorization)
        if fault is not None and not fault.apply:
            outcome = _fault_outcome(fault)
        else:
            outcome = self._dispatch(method, path, query, _token(authorization), data, document)
            if fault is not None:  # applied for real; the client still sees the fault
                outcome = _fault_outcome(fault)
        status = 0 if outcome.drop else outcome.status
        with self._records_lock:
            kind = _graphql_kind(document) if document else ""
            self.requests.append(RequestRecord(method, path, query, status, login, arrived, kind))
        return outcome

    def _login_for(self, authorization: str | None) -> str | None:
        with self.store.lock:
            try:
                return self.store.identify(_token(authorization)).login
            except ApiError:
                return None

    def _dispatch(
        self,
        method: str,
        path: str,
        query: str,
        token: str | None,
        data: bytes,
        document: Document | None = None,
    ) -> Outcome:
        pairs = parse_qsl(query, keep_blank_values=True)
        headers = {"X-GitHub-Request-Id": secrets.token_hex(8).upper()}
        try:
            with self.store.lock:
                actor = self.store.identify(token)
            if document is not None:
                return self._graphql(method, actor, document, headers)
            headers.update(self._rate_headers(actor, counted=path != "/rate_limit"))
            reply = self._answer(method, path, pairs, actor, data)
        except ApiError as error:
            headers.update(error.headers)
            return _json_outcome(error.status, error.body(), headers)
        headers.update(reply.headers)
        return _json_outcome(reply.status, reply.body, headers)

    def _answer(
        self, method: str, path: str, pairs: list[tuple[str, str]], actor: Actor, data: bytes
    ) -> Reply:
        if method == "GET" and path.rstrip("/") == "/rate_limit":
            return Reply(body=self._rate_limit_body(actor))
        found = find_route(method, path)
        if found is None or not self._enabled(found[0].feature):
            raise ApiError(404, "Not Found")
        if method in WRITE_METHODS and actor.user is not None:
            self._check_secondary_limit(actor)
        request = Request(method, path, pairs, _parse_json(data), actor)
        handler, params = found[0].handler, found[1]
        with self.store.lock:
            reply = handler(Ctx(self.store, self._render, request), params)
            if reply.render is not None:
                reply.body = self._paginate(path, pairs, reply, reply.render)
            return reply

    def _graphql(
        self, method: str, actor: Actor, document: Document, headers: dict[str, str]
    ) -> Outcome:
        """`POST /graphql`: GitHub answers most failures as a 200 whose body has `errors`,
        the primary limit too (type RATE_LIMITED); mutations count as content-creating
        requests for the secondary limits.
        https://docs.github.com/en/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api
        """
        if method != "POST" or not self.graphql_enabled:
            raise ApiError(404, "Not Found")
        if actor.user is None:
            raise ApiError(401, "This endpoint requires you to be authenticated.")
        try:
            headers.update(self._rate_headers(actor, counted=True))
        except ApiError as limited:
            headers.update(limited.headers)
            body = {"errors": [{"type": "RATE_LIMITED", "message": limited.message}]}
            return _json_outcome(200, body, headers)
        if document.mutation:
            self._check_secondary_limit(actor)
        with self.store.lock:
            body = answer(
                document,
                store=self.store,
                render=self._render,
                actor=actor,
                sub_issues=self.sub_issues_enabled,
            )
        return _json_outcome(200, body, headers)

    def _enabled(self, feature: str | None) -> bool:
        return not (
            (feature == "sub_issues" and not self.sub_issues_enabled)
            or (feature == "dependencies" and not self.dependencies_enabled)
        )

    def _check_secondary_limit(self, actor: Actor) -> None:
        wait = self._limiter.check(actor.login or "")
        if wait is not None:
            message = SECONDARY_LIMIT_MESSAGE.format(request_id=secrets.token_hex(8).upper())
            raise ApiError(403, message, headers={"Retry-After": str(wait)})

    def _paginate(
        self, path: str, pairs: list[tuple[str, str]], reply: Reply, render: Callable[[Any], Any]
    ) -> list[Any]:
        """The requested page of a listing, rendered, with its `Link` header set on `reply`."""
        page = parse_page(pairs)
        link = build_link_header(self.base_url + path, pairs, page, len(reply.body))
        if link:
            reply.headers["Link"] = link
        return [render(item) for item in slice_page(reply.body, page)]

    def _rate_identity(self, actor: Actor) -> tuple[str, int]:
        if actor.user is None:
            identity, limit = "anonymous", RATE_LIMITS["anonymous"]
        elif actor.installation:
            identity, limit = "installation", RATE_LIMITS["installation"]
        else:
            identity, limit = actor.user.login.lower(), RATE_LIMITS["user"]
        return identity, min(limit, self.primary_limit or limit)

    def _rate_headers(self, actor: Actor, *, counted: bool) -> dict[str, str]:
        """X-RateLimit-* headers; past ``primary_limit`` (when set) a 403 as GitHub sends it."""
        identity, limit = self._rate_identity(actor)
        enforced = limit if self.primary_limit is not None else None
        try:
            used, reset = self._rates.spend(identity, 1 if counted else 0, limit=enforced)
        except LimitReached as reached:
            user_id = actor.user.id if actor.user else 0
            who = f"installation ID {user_id}" if actor.installation else f"user ID {user_id}"
            message = PRIMARY_LIMIT_MESSAGE.format(who=who, request_id=secrets.token_hex(8).upper())
            raise ApiError(
                403, message, headers=_limit_headers(limit, reached.used, reached.reset)
            ) from None
        return _limit_headers(limit, used, reset)

    def _rate_limit_body(self, actor: Actor) -> Json:
        identity, limit = self._rate_identity(actor)
        used, reset = self._rates.spend(identity, 0)
        return build_rate_limit(limit=limit, used=used, reset=reset)


def _limit_headers(limit: int, used: int, reset: int) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(limit - used, 0)),
        "X-RateLimit-Reset": str(reset),
        "X-RateLimit-Used": str(used),
        "X-RateLimit-Resource": "core",
    }


def _token(authorization: str | None) -> str | None:
    """The token of `Authorization: token X` or `Bearer X`."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() in ("token", "bearer") and value.strip():
        return value.strip()
    return authorization.strip()


def _parse_body(data: bytes) -> Any:
    """A GraphQL body as JSON, or None when it is not (the answer then says so)."""
    try:
        return _parse_json(data)
    except ApiError:
        return None


def _fault_path(path: str, document: Document | None) -> str:
    """What faults match: a GraphQL request as ``/graphql/<root field>``, e.g.
    ``/graphql/createIssue``, so a fault can aim at one operation (``/graphql`` matches all)."""
    if document is None or not document.fields:
        return path
    return f"{path}/{','.join(document.fields)}"


def _graphql_kind(document: Document) -> str:
    return ("mutation " if document.mutation else "query ") + ",".join(document.fields)


def _parse_json(data: bytes) -> Any:
    if not data.strip():
        return None
    try:
        return json.loads(data)
    except ValueError as exc:
        raise ApiError(400, "Problems parsing JSON") from exc


def _json_outcome(status: int, body: Any, headers: Mapping[str, str]) -> Outcome:
    payload = b"" if status == 204 or body is None else json.dumps(body).encode()
    all_headers = {"Content-Type": "application/json; charset=utf-8", **headers}
    return Outcome(status, all_headers, payload)


def _fault_outcome(fault: Fault) -> Outcome:
    if fault.drop:
        return Outcome(0, {}, b"", drop=True)
    body = fault.body
    if body is None:
        body = ApiError(fault.status).body()
    return _json_outcome(fault.status, body, fault.headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops connections of concurrent clients
    emulator: GitHubEmulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as PyGithub's requests session expects
    # One buffered write per answer and no Nagle: otherwise every answer waits ~40 ms for the
    # client's delayed ACK between the header and body segments.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        outcome = self.server.emulator.handle(
            self.command, path, query, self.headers.get("Authorization"), data
        )
        if outcome.drop:
            self.close_connection = True
            return
        self.send_response(outcome.status)
        for name, value in outcome.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(outcome.body)))
        self.end_headers()
        self.wfile.write(outcome.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""
