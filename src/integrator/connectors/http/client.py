"""The HTTP client every OData connector uses: pooling, budget, retries, status checks.

One :class:`ODataClient` wraps one ``httpx.Client`` (connection pooling, TLS verification on
by default, an injectable transport). It has the whole job of sending and sending again:

- each request takes a slot of the shared
  :class:`~integrator.connectors.http.budget.Budget`, is checked by
  :func:`~integrator.connectors.http.responses.check_status`, and when that raises
  ``RetriableError`` (or the connection drops) is sent again after the
  :class:`~integrator.connectors.http.retry.RetryPolicy`'s delay (:meth:`ODataClient.request`);
- each part of a ``$batch`` is classified by
  :meth:`~integrator.connectors.http.batch.BatchPart.error` (the same rules), and the
  transient ones go out again (:meth:`ODataClient.send_until_settled`,
  :meth:`ODataClient.part_json`).

A system that cannot be used at all is not retried like a transient failure: a connection that
cannot be made is tried again for at most the policy's ``connect_budget`` seconds, then raises
``SystemUnreachable``; a refusal of the credentials raises ``CredentialsRefused`` at once (both
name the service root, see :mod:`~integrator.connectors.http.unavailable`).
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import unquote

import httpx

from integrator.connectors.configuration import insecure_url_problem
from integrator.connectors.http.auth import NoAuth
from integrator.connectors.http.batch import BatchOperation, BatchPart, decode_batch, encode_batch
from integrator.connectors.http.budget import Budget, shared_budget
from integrator.connectors.http.responses import (
    check_status,
    describe_url,
    parse_json_object,
)
from integrator.connectors.http.retry import RetryPolicy
from integrator.connectors.http.unavailable import refusal, unreachable_reason
from integrator.errors import (
    BadResponseError,
    ConfigError,
    RequestRejected,
    RetriableError,
    SystemUnavailable,
    SystemUnreachable,
)

__all__ = ["ODataClient", "PageTrail", "Settle"]

Item = TypeVar("Item")

#: told of an item's final answer (``error`` is ``None`` for a success); returns an item to
#: send instead, or ``None`` when the item is settled
Settle = Callable[[Item, BatchPart, RequestRejected | None], Item | None]

_ODATA_HEADERS = {
    "OData-Version": "4.0",
    "OData-MaxVersion": "4.0",
    "Accept": "application/json",
}


class ODataClient:
    """Sends OData requests to one service root, within budget, retrying transient failures."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: httpx.Auth | None = None,
        transport: httpx.BaseTransport | None = None,
        verify: bool | ssl.SSLContext = True,
        timeout: float | httpx.Timeout = 120.0,
        budget: Budget | None = None,
        retry: RetryPolicy | None = None,
        max_connections: int = 52,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        allow_insecure_http: bool = False,
        seated: bool = False,
    ) -> None:
        """``seated``: a seat was taken on ``budget`` for this client (see
        :func:`~integrator.connectors.http.budget.place`); :meth:`close` gives it back."""
        if not base_url.endswith("/"):
            base_url += "/"
        self.base_url = httpx.URL(base_url)
        auth = auth or NoAuth()
        #: credentials go only over TLS or to this machine, unless the connection allows it
        self._guard_credentials = not isinstance(auth, NoAuth) and not allow_insecure_http
        identity = str(getattr(auth, "identity", "anonymous"))
        self.budget = budget or shared_budget(self.base_url.netloc.decode(), identity)
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        configured = self._timeout.connect
        self._connect_timeout = min(
            configured if configured is not None else self.retry.connect_budget,
            self.retry.connect_budget,
        )
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=auth,
            transport=transport,
            verify=verify,
            timeout=self._with_connect(self._connect_timeout),
            headers=_ODATA_HEADERS,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            follow_redirects=False,
        )
        self._seated = seated
        self._count_lock = threading.Lock()
        #: HTTP requests sent, retries included (a ``$batch`` counts once)
        self.requests_sent = 0

    def __repr__(self) -> str:
        return f"ODataClient({str(self.base_url)!r})"

    def url(self, path: str) -> httpx.URL:
        """``path`` (relative to the service root, or absolute) as an absolute URL."""
        return self.base_url.join(path)

    def url_text(self, path: str) -> str:
        """``path`` as absolute URL text, without parsing it (for messages; paths are long)."""
        return path if "://" in path else str(self.base_url) + path

    def request(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """Send one request; retry 429/5xx/dropped connections; return a 2xx response.

        Raises ``RetriableError`` after the last attempt, ``RequestRejected`` for other 4xx, and
        ``BadResponseError`` for an absolute ``url`` (a next or delta link the server gave)
        outside the service's origin: following it would hand the credentials to another host.
        A connection that cannot be made raises ``SystemUnreachable`` once the retry policy's
        ``connect_budget`` is spent (at once for an untrusted TLS certificate); credentials the
        system refuses raise ``CredentialsRefused`` at once. Both name the service root.
        A request that would carry credentials over plain http to a host that is not this
        machine raises ``ConfigError`` before the credentials are added (unless the client was
        made with ``allow_insecure_http``).
        """
        self._check_origin(url)
        self._check_transport(url)
        service = str(self.base_url)
        last: RetriableError | None = None
        wait: float | None = None
        deadline: float | None = None
        for attempt in range(self.retry.max_attempts):
            if attempt:
                assert last is not None
                if wait is None:
                    wait = self.retry.delay(attempt - 1, last.retry_after)
                self.sleep(wait)
                wait = None
            started = self.clock()
            timeout = self._attempt_timeout(deadline)
            with self.budget.slot():
                with self._count_lock:
                    self.requests_sent += 1
                try:
                    response = self._http.request(
                        method,
                        url,
                        params=params,
                        headers=headers,
                        content=content,
                        timeout=timeout,
                    )
                except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                    reason, worth_retrying = unreachable_reason(
                        exc, timeout.connect or 0.0, self.base_url.host
                    )
                    unreachable = SystemUnreachable(reason, url=service)
                    if deadline is None:
                        deadline = started + self.retry.connect_budget
                    wait = self.retry.delay(attempt)
                    if not worth_retrying or self.clock() + wait >= deadline:
                        raise unreachable from None
                    last = unreachable
                    continue
                except httpx.TransportError as exc:
                    last = RetriableError(
                        f"{method} {describe_url(self.url_text(str(url)))}: connection failed "
                        f"({type(exc).__name__})"
                    )
                    continue
                except SystemUnavailable as exc:  # the sign-in of the auth flow
                    raise exc.named(url=service) from None
            refused = refusal(response, service)
            if refused is not None:
                raise refused
            try:
                check_status(response)
            except RetriableError as exc:
                if exc.status == 429 and exc.retry_after:
                    self.budget.pause(exc.retry_after)
                last = exc
                continue
            return response
        assert last is not None
        raise last

    def _attempt_timeout(self, deadline: float | None) -> httpx.Timeout:
        """The timeouts of one attempt: once a connection has failed, connecting again may take
        only what is left of the connect budget."""
        connect = self._connect_timeout
        if deadline is not None:
            connect = max(min(connect, deadline - self.clock()), 0.1)
        return self._with_connect(connect)

    def _with_connect(self, connect: float) -> httpx.Timeout:
        base = self._timeout
        return httpx.Timeout(connect=connect, read=base.read, write=base.write, pool=base.pool)

    def _check_origin(self, url: str | httpx.URL) -> None:
        if isinstance(url, str) and "://" not in url:
            return
        target = httpx.URL(url)
        if not target.is_absolute_url:
            return
        root = self.base_url
        if (target.scheme, target.host, target.port) != (root.scheme, root.host, root.port):
            raise BadResponseError(
                f"{describe_url(url)} is outside the service {root.scheme}://{root.netloc.decode()}"
                "; not followed, so that the credentials stay with the service"
            )

    def _check_transport(self, url: str | httpx.URL) -> None:
        if not self._guard_credentials:
            return
        target = self.url(url) if isinstance(url, str) else url
        if not target.is_absolute_url:
            target = self.base_url.join(target)
        problem = insecure_url_problem(str(target))
        if problem is not None:
            raise ConfigError(f"not sent, so that the credentials stay secret: {problem}")

    def get_json(
        self,
        url: str | httpx.URL,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """GET ``url`` and return its JSON object body (``BadResponseError`` when it is not)."""
        response = self.request("GET", url, params=params, headers=headers)
        return parse_json_object(response.content, method="GET", url=response.request.url)

    def pages(
        self,
        url: str | httpx.URL,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        trail: PageTrail | None = None,
    ) -> Iterator[dict[str, Any]]:
        """GET ``url`` and every ``@odata.nextLink`` after it, unchanged; yield each body.

        Each body's ``value`` is checked to be a list. A next link to a page this read has
        already asked for (``trail``, when the caller read pages before, else ``url``) raises
        ``BadResponseError`` naming it, before it is read again.
        """
        trail = trail or PageTrail(self, url, params)
        body = self.get_json(url, params=params, headers=headers)
        while True:
            if not isinstance(body.get("value"), list):
                raise BadResponseError(
                    f"GET {describe_url(url)}: the answer has no 'value' list of records"
                )
            yield body
            next_link = body.get("@odata.nextLink")
            if not next_link:
                return
            if not isinstance(next_link, str):
                raise BadResponseError(f"GET {describe_url(url)}: @odata.nextLink is not a URL")
            trail.follow(next_link, came_from=url)
            url = next_link
            params = None
            body = self.get_json(httpx.URL(next_link), headers=headers)

    def page_key(self, url: str | httpx.URL, params: Mapping[str, str] | None = None) -> str:
        """The page ``GET url`` (with ``params``) asks for, in one spelling: the absolute URL
        with scheme and host in lower case, the port given, and percent-escapes decoded."""
        target = self._http.build_request("GET", url, params=params).url
        path = unquote(target.raw_path.decode("ascii", "replace"))
        return f"{target.scheme}://{target.host}:{target.port or ''}{path}"

    def batch(
        self, operations: Sequence[BatchOperation], *, continue_on_error: bool = True
    ) -> list[BatchPart]:
        """Send ``operations`` as one ``$batch``; return one part per operation, in order.

        Transient failures of the whole batch are retried like any request. Parts the server
        did not answer (it stopped early) come back as ``None``-status parts for the caller to
        send again.
        """
        content_type, body = encode_batch(operations, base_url=str(self.base_url))
        headers = {"Content-Type": content_type}
        if continue_on_error:
            headers["Prefer"] = "odata.continue-on-error"
        response = self.request("POST", "$batch", headers=headers, content=body)
        return decode_batch(
            response.headers.get("Content-Type", ""),
            response.content,
            expected=len(operations),
            url=str(response.request.url),
        )

    def send_until_settled(
        self,
        items: Sequence[Item],
        operation: Callable[[Item], BatchOperation],
        settle: Settle[Item],
        give_up: Callable[[Item, str], None],
    ) -> None:
        """Send ``operation(item)`` for each item in one ``$batch`` (the caller sizes ``items``),
        again for those answered transiently, until each is settled or the retries run out
        (``give_up`` is told why).

        A part answered 429/5xx, or not answered, goes out again in a smaller batch after the
        retry policy's delay (a 429's ``Retry-After`` also pauses every client sharing the
        budget). When the server stopped early after answering some parts (it ignored
        continue-on-error), the rest go out at once: that is progress, not a failure to back
        off from. Every other answer is handed to ``settle``, which may ask for a different
        item to be sent in its place.
        """
        pending = list(items)
        attempt = 0
        while pending:
            operations = [operation(item) for item in pending]
            parts = self.batch(operations)
            again: list[Item] = []
            transient: RetriableError | None = None
            unanswered: RetriableError | None = None
            for item, sent, part in zip(pending, operations, parts, strict=True):
                error = part.error(sent.method, self.url_text(sent.path))
                if isinstance(error, RetriableError):
                    again.append(item)
                    if part.status is None:
                        unanswered = error
                    else:
                        transient = error
                    continue
                instead = settle(item, part, error)
                if instead is not None:
                    again.append(instead)
            pending = again
            if unanswered is not None and transient is None and len(pending) < len(operations):
                continue
            reason = transient or unanswered
            if pending and reason is not None:
                attempt += 1
                if attempt >= self.retry.max_attempts:
                    for item in pending:
                        give_up(item, f"gave up after {attempt} attempts: {reason}")
                    return
                if reason.status == 429 and reason.retry_after:
                    self.budget.pause(reason.retry_after)
                self.sleep(self.retry.delay(attempt - 1, reason.retry_after))

    def part_json(
        self, operation: BatchOperation, part: BatchPart, *, headers: Mapping[str, str]
    ) -> dict[str, Any]:
        """The JSON object answering ``operation`` (a ``GET``) in ``part``.

        A transient answer is fetched again on its own, with retries; a refusal raises
        ``RequestRejected``; a body that is not a JSON object raises ``BadResponseError``.
        """
        url = self.url_text(operation.path)
        error = part.error(operation.method, url)
        if isinstance(error, RequestRejected):
            raise error
        if error is not None:
            return self.get_json(httpx.URL(url), headers=headers)
        return parse_json_object(part.body, method=operation.method, url=url)

    def close(self) -> None:
        """Close pooled connections; give back the seat taken on the budget's identity
        (``seated``)."""
        self._http.close()
        if self._seated:
            self._seated = False
            self.budget.leave_seat()


class PageTrail:
    """The pages one read has asked for, so that a next link back to one of them (a server
    that would have the read go round forever) is refused instead of followed."""

    def __init__(
        self, client: ODataClient, first: str | httpx.URL, params: Mapping[str, str] | None = None
    ) -> None:
        self._client = client
        self._seen = {client.page_key(first, params)}

    def follow(self, link: str, *, came_from: str | httpx.URL) -> None:
        """Record ``link`` (given by the page of ``came_from``) as read next; raise
        ``BadResponseError`` when this read has asked for that page already."""
        key = self._client.page_key(link)
        if key in self._seen:
            pages = len(self._seen)
            raise BadResponseError(
                f"GET {describe_url(self._client.url_text(str(came_from)))}: its "
                f"@odata.nextLink {describe_url(link)} points back at a page this read has "
                f"already read ({pages} page{'s' if pages != 1 else ''} read); the read stops "
                "here instead of going round forever"
            )
        self._seen.add(key)
