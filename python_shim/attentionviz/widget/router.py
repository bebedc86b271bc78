"""The widget's one request/reply channel over anywidget's custom messages (protocol v1).

Every message is a dict with a string ``kind``:

- request ``{"kind", "id", ...params}``: answered by the handler registered for its kind
  with ``{"kind", "reply_to": id, "ok": True, ...result}`` + buffers, or
  ``{"kind", "reply_to": id, "ok": False, "error": str(exception)}`` when it raises (the
  kernel keeps running) and for a kind nobody handles;
- reply ``{"kind", "reply_to", "ok", ...}``: settles the request this side sent with that id
  if it is still pending and of the same kind; anything else (late, duplicated, foreign,
  of another kind) is ignored;
- notification ``{"kind", ...}`` (neither id nor reply_to): passed to its handler, if any.

Messages that are not dicts or have no string ``kind`` are ignored. Ids of the requests
this side sends (``export``) come from one counter per router.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

#: A request handler: the request's params -> (result fields, reply buffers).
Handler = Callable[[dict[str, Any]], tuple[dict[str, Any], list[Any]]]
#: Called with the reply (its fields, its buffers) to a request this side sent.
OnReply = Callable[[dict[str, Any], list[Any]], None]
Send = Callable[..., None]


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


class Router:
    """A table from message kind to handler, and the requests this side waits on."""

    def __init__(
        self,
        send: Send,
        handlers: Mapping[str, Handler],
        notifications: Mapping[str, Callable[[dict[str, Any]], None]] | None = None,
    ) -> None:
        self._send = send
        self._handlers = dict(handlers)
        self._notifications = dict(notifications or {})
        self._next_id = 1
        self._pending: dict[int, tuple[str, OnReply]] = {}

    @property
    def pending(self) -> dict[int, str]:
        """Ids of the requests sent and not yet answered, with their kinds."""
        return {request_id: kind for request_id, (kind, _) in self._pending.items()}

    def request(self, kind: str, params: Mapping[str, Any], on_reply: OnReply) -> int:
        """Send request ``kind`` to the view; ``on_reply`` gets the first matching reply."""
        request_id = self._next_id
        self._next_id += 1
        self._pending[request_id] = (kind, on_reply)
        self._send({**params, "kind": kind, "id": request_id})
        return request_id

    def receive(self, content: Any, buffers: list[Any] | None = None) -> None:
        """Route one message from the view."""
        if not isinstance(content, dict) or not isinstance(content.get("kind"), str):
            return
        buffers = list(buffers or [])
        if "reply_to" in content:
            self._settle(content, buffers)
        elif "id" in content:
            if _is_id(content["id"]):
                self._answer(content)
        else:
            notify = self._notifications.get(content["kind"])
            if notify is not None:
                notify(content)

    def _settle(self, reply: dict[str, Any], buffers: list[Any]) -> None:
        request_id = reply["reply_to"]
        waiting = self._pending.get(request_id) if _is_id(request_id) else None
        if waiting is None or waiting[0] != reply["kind"]:
            return  # late, duplicated, foreign or of another kind: never the wrong request
        del self._pending[request_id]
        waiting[1](reply, buffers)

    def _answer(self, request: dict[str, Any]) -> None:
        kind, request_id = request["kind"], request["id"]
        handler = self._handlers.get(kind)
        head = {"kind": kind, "reply_to": request_id}
        if handler is None:
            self._send({**head, "ok": False, "error": f"unknown request kind {kind!r}"})
            return
        try:
            result, buffers = handler(request)
        except Exception as error:  # the view shows it; the kernel keeps running
            self._send({**head, "ok": False, "error": str(error) or type(error).__name__})
            return
        self._send({**result, **head, "ok": True}, buffers=buffers)
