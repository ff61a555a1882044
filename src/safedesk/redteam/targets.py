"""What the red team attacks, behind one small protocol: `Target.send(conversation_id, text)`.

- `InProcessTarget`: a SafeDesk `TurnPipeline`. `sandboxed_desk` opens the business's desk on a
  throw-away copy of its directory (knowledge, settings, customers, canaries; no database), so attack
  conversations never reach the real staff inbox and verification codes go to a log, never to a
  customer's real inbox.
- `SafeDeskApiTarget`: a running SafeDesk server (`POST /api/v1/conversations`, then
  `POST /api/v1/conversations/{id}/messages {"text"}` -> `{"reply","lane","held_for_review"}`).
- `GenericHttpTarget`: any chatbot that takes one JSON POST per turn: the text in `text_field`, the
  reply read from `reply_field` (a dotted path, e.g. `data.answer`), and optionally the conversation
  id in `conversation_field`.

HTTP failures (connection refused, time-outs, 4xx/5xx, a reply that is not JSON or has no reply field)
raise `TargetError`; the runner records them per probe and carries on.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import httpx
import yaml

from safedesk import strict_yaml
from safedesk.config import CONFIG_FILE, Project
from safedesk.errors import SafeDeskError, UserError

if TYPE_CHECKING:
    from safedesk.desk import Desk
    from safedesk.pipeline import TurnPipeline

USER_AGENT = "safedesk-redteam"
MAX_RETRY_WAIT_SECONDS = 60.0  # honour a 429/503 Retry-After up to this long
MAX_RETRIES = 3
MAX_REPLY_BYTES = 256 * 1024  # a chat reply; anything bigger is an error, not read to the end


class TargetError(SafeDeskError):
    """A target did not give a usable reply (network error, time-out, HTTP error, bad body)."""


@dataclass(frozen=True, slots=True)
class TargetReply:
    text: str
    lane: str | None = None  # answer | verify | human | refuse, when the target says
    held: bool | None = None  # True when the real answer waits for staff


class Target(Protocol):
    description: str

    def send(self, conversation_id: str, text: str) -> TargetReply: ...

    def close(self) -> None: ...


# ---- in process -----------------------------------------------------------------------------------


class InProcessTarget:
    def __init__(self, pipeline: TurnPipeline, description: str = "the desk, in process") -> None:
        self.pipeline = pipeline
        self.description = description

    def send(self, conversation_id: str, text: str) -> TargetReply:
        result = self.pipeline.run(conversation_id, text, channel="redteam")
        return TargetReply(result.reply, lane=result.lane.value, held=result.held_for_review)

    def close(self) -> None:
        pass


_NOT_COPIED = shutil.ignore_patterns("*.db", "*.db-wal", "*.db-shm", "*.db-journal", "outbox.log", ".canaries.lock")


@contextlib.contextmanager
def sandboxed_desk(project_dir: Path | str, llm_url: str | None = None) -> Iterator[Desk]:
    """The business's desk, opened on a temporary copy of its directory with its own SQLite database,
    verification codes written to a log, and no shared rate-limit store. Removed afterwards."""
    from safedesk.desk import Desk

    project = Project.load(project_dir)  # ProjectNotFound / ConfigError before anything is copied
    with tempfile.TemporaryDirectory(prefix="safedesk-redteam-") as tmp:
        copy = Path(tmp) / "business"
        shutil.copytree(project.root, copy, ignore=_NOT_COPIED)
        settings_path = copy / CONFIG_FILE
        # The desk's own YAML rules (no "no" read as false): `languages: [en, no]` must survive the copy.
        settings = strict_yaml.load(settings_path.read_text(encoding="utf-8")) or {}
        settings.setdefault("storage", {})["url"] = ""
        settings.setdefault("verification", {})["email_transport"] = "log"
        settings.setdefault("limits", {})["rate_limit_redis_url"] = ""
        settings_path.write_text(yaml.safe_dump(settings, sort_keys=False, allow_unicode=True), encoding="utf-8")
        desk = Desk.open(copy, llm_url=llm_url)
        try:
            yield desk
        finally:
            desk.close()


# ---- over HTTP ------------------------------------------------------------------------------------


class _HttpTarget:
    description = ""

    def __init__(self, timeout: float, client: httpx.Client | None = None) -> None:
        self.timeout = timeout
        self.client = client or httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT})

    def close(self) -> None:
        self.client.close()

    def _post(self, url: str, body: dict[str, Any]) -> Any:
        for attempt in range(MAX_RETRIES + 1):
            try:
                response = self._bounded_post(url, body)
            except httpx.TimeoutException:
                raise TargetError(f"no reply within {self.timeout:g} s from {url}") from None
            except httpx.HTTPError as exc:
                raise TargetError(f"could not reach {url}: {type(exc).__name__}: {exc}") from None
            wait = _retry_after(response)
            if wait is not None and attempt < MAX_RETRIES:
                time.sleep(wait)
                continue
            if response.status_code >= 400:
                raise TargetError(f"HTTP {response.status_code} from {url}: {_short(response.text)}")
            try:
                return response.json()
            except ValueError:
                raise TargetError(f"the reply from {url} is not JSON: {_short(response.text)}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _bounded_post(self, url: str, body: dict[str, Any]) -> httpx.Response:
        """POST and read at most MAX_REPLY_BYTES of the reply: a hostile endpoint cannot exhaust memory."""
        with self.client.stream("POST", url, json=body, timeout=self.timeout) as response:
            received = bytearray()
            for chunk in response.iter_bytes():
                received += chunk
                if len(received) > MAX_REPLY_BYTES:
                    raise TargetError(f"the reply from {url} is larger than {MAX_REPLY_BYTES // 1024} kB")
            # the bytes are already decoded: keep the headers that matter, not content-encoding/-length
            headers = {k: v for k, v in response.headers.items() if k.lower() in ("content-type", "retry-after")}
            return httpx.Response(
                response.status_code, headers=headers, content=bytes(received), request=response.request
            )


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait before retrying a 429/503 that says when (up to MAX_RETRY_WAIT_SECONDS)."""
    if response.status_code not in (429, 503):
        return None
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return seconds if 0 <= seconds <= MAX_RETRY_WAIT_SECONDS else None


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SafeDeskApiTarget(_HttpTarget):
    """A SafeDesk server: one API conversation per red-team conversation."""

    def __init__(self, base_url: str, timeout: float = 30.0, client: httpx.Client | None = None) -> None:
        super().__init__(timeout, client)
        self.base_url = base_url.rstrip("/")
        self.description = f"SafeDesk API at {self.base_url}"
        self._conversations: dict[str, str] = {}

    def send(self, conversation_id: str, text: str) -> TargetReply:
        server_id = self._conversations.get(conversation_id)
        if server_id is None:
            opened = self._post(f"{self.base_url}/api/v1/conversations", {})
            if not isinstance(opened, dict) or not isinstance(opened.get("id"), str):
                raise TargetError("POST /api/v1/conversations did not return a conversation id")
            server_id = self._conversations[conversation_id] = opened["id"]
        body = self._post(f"{self.base_url}/api/v1/conversations/{server_id}/messages", {"text": text})
        if not isinstance(body, dict) or not isinstance(body.get("reply"), str):
            raise TargetError("the message endpoint did not return a reply")
        lane = body.get("lane")
        held = body.get("held_for_review")
        return TargetReply(
            body["reply"], lane=lane if isinstance(lane, str) else None, held=held if isinstance(held, bool) else None
        )


class GenericHttpTarget(_HttpTarget):
    """Any chatbot endpoint: one JSON POST per turn."""

    def __init__(
        self,
        url: str,
        text_field: str,
        reply_field: str,
        conversation_field: str | None = None,
        timeout: float = 30.0,
        client: httpx.Client | None = None,
    ) -> None:
        super().__init__(timeout, client)
        self.url, self.text_field, self.reply_field = url, text_field, reply_field
        self.conversation_field = conversation_field
        self.description = f"{url} (text in {text_field!r}, reply from {reply_field!r})"

    def send(self, conversation_id: str, text: str) -> TargetReply:
        body: dict[str, Any] = {self.text_field: text}
        if self.conversation_field:
            body[self.conversation_field] = conversation_id
        reply = _dig(self._post(self.url, body), self.reply_field)
        if not isinstance(reply, str):
            raise TargetError(f"the reply has no text field {self.reply_field!r}")
        return TargetReply(reply)


def _dig(body: Any, path: str) -> Any:
    for key in path.split("."):
        if isinstance(body, dict):
            body = body.get(key)
        elif isinstance(body, list) and key.isdigit() and int(key) < len(body):
            body = body[int(key)]
        else:
            return None
    return body


def http_target(
    endpoint: str,
    *,
    text_field: str | None = None,
    reply_field: str | None = None,
    conversation_field: str | None = None,
    timeout: float = 30.0,
) -> SafeDeskApiTarget | GenericHttpTarget:
    """The target for `--endpoint`: the SafeDesk API shape by default, the generic shape with fields."""
    if not endpoint.startswith(("http://", "https://")):
        raise UserError(f"--endpoint must be an http:// or https:// URL, not {endpoint!r}")
    if timeout <= 0:
        raise UserError("--timeout must be more than 0 seconds")
    if any(field is not None and not field.strip() for field in (text_field, reply_field, conversation_field)):
        raise UserError("--text-field, --reply-field and --conversation-field must not be empty")
    if (text_field is None) != (reply_field is None):
        raise UserError("--text-field and --reply-field go together: give both, or neither for a SafeDesk server")
    if conversation_field and text_field is None:
        raise UserError("--conversation-field needs --text-field and --reply-field")
    if text_field is not None and reply_field is not None:
        return GenericHttpTarget(endpoint, text_field, reply_field, conversation_field, timeout)
    return SafeDeskApiTarget(endpoint, timeout)
