"""How many connections the server holds, and for how long one may take to send its headers.

uvicorn times out an idle keep-alive connection but not one that never finishes its request line or
headers: a thousand such sockets (no token needed) would hold the server's file descriptors until
``accept`` fails on every new one ("Too many open files"). Here each connection has ``header_seconds``
to send its headers (from when it opened, or from its last response), and the server holds at most
``most`` connections: when one more comes, the oldest still sending its headers is closed (or the new
one, when every connection is busy with a request). ``raise_fd_limit`` lifts the process's soft limit
of open files to the hard one, and ``connection_cap`` keeps ``most`` well below it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_SECONDS = 10.0
MOST_CONNECTIONS = 1000
HEADER_BYTES = 32 * 1024  # the request line and headers (cookies included) of one request
BACKLOG = 128
"""The listen queue, and how many connections asyncio accepts in one go before any of them is seen
(and counted) by the protocol: the cap leaves room for a batch."""


def raise_fd_limit() -> int | None:
    """The soft limit of open files raised to the hard one (POSIX); the limit now, None where there is
    none to read (Windows: the proactor has no select() limit)."""
    try:
        import resource
    except ImportError:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return int(soft)


def connection_cap(fd_limit: int | None) -> int:
    """Connections held at once: ``MOST_CONNECTIONS``, or less when the open-file limit is low: half of
    what is left once a batch of accepts (``BACKLOG``) and 64 others (the folder's files, the worker
    threads, the reader processes) are set aside, as shed connections close only on the next turn."""
    if fd_limit is None:
        return MOST_CONNECTIONS
    return max(8, min(MOST_CONNECTIONS, (fd_limit - 64 - 2 * BACKLOG) // 2))


def protocol(most: int, header_seconds: float = HEADER_SECONDS) -> type[H11Protocol]:
    """uvicorn's h11 protocol with the header deadline and the cap on connections."""

    class Bounded(H11Protocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > most and not self._make_room():
                self.transport.close()
                return
            self._await_headers()

        def connection_lost(self, exc: Exception | None) -> None:
            self._headers_done()
            super().connection_lost(exc)

        def handle_events(self) -> None:
            super().handle_events()
            if self.conn.their_state is not h11.IDLE:  # the request line and headers are in
                self._headers_done()

        def on_response_complete(self) -> None:
            super().on_response_complete()  # may start the next (pipelined) request at once
            if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
                self._await_headers()  # the next request on this connection has the same deadline

        def _await_headers(self) -> None:
            self._headers_done()
            _waiting(self.server_state)[self] = None
            self.header_timer = self.loop.call_later(header_seconds, self._too_slow)

        def _headers_done(self) -> None:
            if self.header_timer is not None:
                self.header_timer.cancel()
                self.header_timer = None
            _waiting(self.server_state).pop(self, None)

        def _too_slow(self) -> None:
            self.header_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()
            _waiting(self.server_state).pop(self, None)

        def _make_room(self) -> bool:
            """Close the oldest connection still sending its headers; False when there is none."""
            waiting = _waiting(self.server_state)
            for oldest in waiting:
                if oldest is not self:
                    waiting.pop(oldest)
                    oldest._headers_done()
                    oldest.transport.close()
                    self.connections.discard(oldest)
                    return True
            return False

    return Bounded


def _waiting(state: Any) -> dict[Any, None]:
    """The server's connections still sending their headers, oldest first."""
    waiting: dict[Any, None] | None = getattr(state, "xltool_waiting", None)
    if waiting is None:
        waiting = {}
        state.xltool_waiting = waiting
    return waiting
