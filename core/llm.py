"""Optional understanding by a language model: any OpenAI-compatible chat-completions endpoint.

With ``INTENT_LLM_BASE_URL``, ``INTENT_LLM_MODEL`` and ``INTENT_LLM_API_KEY`` set, a model reads
each message — its text, how many pictures came with it, the person's last results and the
live model names — and answers one JSON object of a strict schema: what kind of message it is
(a request to make something, a change to the last result, a question and its topic, a
preference command, or just talk) and a cleaned description. :mod:`core.understanding` weighs
that against the rules: details the rules anchor in the text (model names, numbers, ratios,
durations, lyrics) always win, and when the two disagree about spending, the bot asks.

Anything but a valid answer within the timeout — slow, an error, a refusal, malformed JSON, a
value outside the schema — is a fallback to the rules alone: logged (never with the key) and
counted in ``ima_bot_understanding_fallbacks_total{reason}``. Without the settings nothing is
sent anywhere.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import aiohttp

from core.ima.tasks import MediaKind
from core.metrics import UNDERSTANDING_FALLBACKS

log = logging.getLogger(__name__)

#: The model must answer within this long (chat users wait for the first reply).
DEFAULT_TIMEOUT = 2.0
MAX_PROMPT_CHARS = 2000


class Kind(StrEnum):
    GENERATE = "generate"
    CONTINUE = "continue"
    QUESTION = "question"
    PREFERENCE = "preference"
    CHAT = "chat"


class Topic(StrEnum):
    PRICE = "price"
    MODELS = "models"
    TIME = "time"
    CAPABILITIES = "capabilities"
    LIMITS = "limits"
    CREDITS = "credits"
    ABOUT_INPUT = "about_input"
    OTHER = "other"


class PreferenceOp(StrEnum):
    SET = "set"
    RESET = "reset"
    SHOW = "show"
    BEST = "best"
    CHEAPEST = "cheapest"
    ANOTHER = "another"


@dataclass(frozen=True)
class Reading:
    """What the model read in one message."""

    kind: Kind
    media: MediaKind | None = None
    topic: Topic | None = None
    preference: PreferenceOp | None = None
    #: The description for the generator, without the request frame ("帮我画…", "can you…").
    prompt: str | None = None


def _nullable(enum: type[StrEnum]) -> dict[str, Any]:
    return {"type": ["string", "null"], "enum": [*(m.value for m in enum), None]}


SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "media", "topic", "preference", "prompt"],
    "properties": {
        "kind": {"type": "string", "enum": [k.value for k in Kind]},
        "media": _nullable(MediaKind),
        "topic": _nullable(Topic),
        "preference": _nullable(PreferenceOp),
        "prompt": {"type": ["string", "null"], "maxLength": MAX_PROMPT_CHARS},
    },
}

_SYSTEM = """You read one chat message sent to a bot that makes pictures, videos and songs \
with paid AI models. Classify it and answer ONLY a JSON object with the keys kind, media, topic, \
preference, prompt.
kind: "generate" = a clear request to make something new now; "continue" = it only changes or \
re-parameterises the person's latest result (e.g. "make it vertical", "10 seconds", "add a moon", \
"3 more", "sadder", "make a video of it"); "question" = any question, even one naming a medium or \
a model, and a picture sent with a question; "preference" = about default models (use X / always \
X / another model / the best / the cheapest / reset / show my defaults); "chat" = thanks, \
greetings, remarks, complaints. When unsure whether the person wants something made now, do not \
say "generate".
media: "image", "video" or "music" when the message names what to make or asks about, else null.
topic (questions only): price, models, time, capabilities, limits, credits, about_input or other.
preference (preference only): set, reset, show, best, cheapest or another.
prompt (generate/continue only): what to make, in the person's own words, without request \
words like "please draw" or "帮我画一张"; keep every detail; null otherwise."""


@dataclass(frozen=True)
class LLMConfig:
    base_url: str
    model: str
    api_key: str
    timeout: float = DEFAULT_TIMEOUT

    def __repr__(self) -> str:  # the key stays out of every repr and log line
        return f"LLMConfig(base_url={self.base_url!r}, model={self.model!r})"


class Fallback(Exception):
    """The model gave no usable answer; ``reason`` labels the metric."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


class LLMReader:
    """Asks the configured model to read messages; one aiohttp session for all of them."""

    def __init__(self, config: LLMConfig) -> None:
        self._config = config
        self._http: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def read(
        self,
        text: str,
        *,
        images: int,
        recent: Sequence[str],
        models: Sequence[str],
        locale: str,
    ) -> Reading | None:
        """The model's reading, or None (a fallback to the rules, logged and counted)."""
        context = {
            "message": text[:4000],
            "pictures_attached": images,
            "latest_results": list(recent)[:3],
            "models_on_offer": list(models)[:60],
            "language": locale,
        }
        try:
            async with asyncio.timeout(self._config.timeout):
                answer = await self._ask(json.dumps(context, ensure_ascii=False))
            return parse_reading(answer)
        except Fallback as fallback:
            reason, detail = fallback.reason, fallback.detail
        except TimeoutError:
            reason, detail = "timeout", f"no answer within {self._config.timeout}s"
        except (aiohttp.ClientError, OSError) as exc:
            reason, detail = "unreachable", type(exc).__name__
        log.warning("understanding model not used (%s): %s", reason, detail)
        UNDERSTANDING_FALLBACKS.labels(reason).inc()
        return None

    async def _ask(self, context: str) -> str:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        body = {
            "model": self._config.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": _SYSTEM},
                {"role": "user", "content": context},
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "reading", "strict": True, "schema": SCHEMA},
            },
        }
        url = f"{self._config.base_url.rstrip('/')}/chat/completions"
        headers = {"Authorization": f"Bearer {self._config.api_key}"}
        async with self._http.post(url, json=body, headers=headers) as resp:
            raw = await resp.read()
            if resp.status != 200:
                raise Fallback("http_error", f"HTTP {resp.status}")
        try:
            message = json.loads(raw)["choices"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise Fallback("malformed", "not a chat completion") from None
        if message.get("refusal"):
            raise Fallback("refused", "the model refused")
        content = message.get("content")
        if not isinstance(content, str):
            raise Fallback("malformed", "no content")
        return content


def parse_reading(content: str) -> Reading:
    """The model's JSON answer, checked against :data:`SCHEMA` (or :class:`Fallback`)."""
    try:
        data = json.loads(content)
    except ValueError:
        raise Fallback("malformed", "not JSON") from None
    if not isinstance(data, dict) or set(data) != set(SCHEMA["required"]):
        raise Fallback("invalid", "not the schema's keys")
    try:
        reading = Reading(
            kind=Kind(data["kind"]),
            media=MediaKind(data["media"]) if data["media"] is not None else None,
            topic=Topic(data["topic"]) if data["topic"] is not None else None,
            preference=(
                PreferenceOp(data["preference"]) if data["preference"] is not None else None
            ),
            prompt=data["prompt"],
        )
    except (ValueError, TypeError):
        raise Fallback("invalid", "a value outside the schema") from None
    if reading.prompt is not None and (
        not isinstance(reading.prompt, str) or len(reading.prompt) > MAX_PROMPT_CHARS
    ):
        raise Fallback("invalid", "prompt")
    return reading
