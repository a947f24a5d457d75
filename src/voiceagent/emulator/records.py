"""What tests can inspect about a response, and its rough token usage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .conversations import Conversation
from .script import Reply

__all__ = ["ResponseRecord", "usage"]


@dataclass
class ResponseRecord:
    """What tests can inspect about a response after the fact.

    Attributes:
        id: ``resp_...``.
        reply: The scripted reply it speaks.
        instructions: ``response.instructions`` of the ``response.create``, if any.
        additional_instructions: ``additional_instructions`` of the ``response.create``, if any.
        status: ``in_progress``, ``completed``, ``cancelled`` or ``failed`` (connection lost).
        cancel_reason: ``turn_detected`` or ``client_cancelled`` when cancelled.
        item_ids: Ids of the output items, in order.
        interim: The interim texts spoken (``interim_response``), in order.
    """

    id: str
    reply: Reply
    instructions: str | None = None
    additional_instructions: str | None = None
    status: str = "in_progress"
    cancel_reason: str | None = None
    item_ids: list[str] = field(default_factory=list)
    interim: list[str] = field(default_factory=list)


def usage(conversation: Conversation, text_chars: int, audio_ms: float) -> dict[str, Any]:
    """Rough token usage in the service's shape.

    About 4 characters per text token and 50 ms per audio token: tests should only rely on the
    fields being present and plausible.
    """
    input_text = max(1, sum(len(str(item)) for item in conversation.items) // 16)
    output_text = text_chars // 4
    output_audio = int(audio_ms // 50)
    return {
        "total_tokens": input_text + output_text + output_audio,
        "input_tokens": input_text,
        "output_tokens": output_text + output_audio,
        # Every field the SDKs' generated models mark required: the JS SDK (1.1.0) throws on a
        # missing cached_tokens_details and the app gets a MessageParsingError, not response.done.
        "input_token_details": {
            "cached_tokens": 0,
            "text_tokens": input_text,
            "audio_tokens": 0,
            "image_tokens": 0,
            "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0},
        },
        "output_token_details": {"text_tokens": output_text, "audio_tokens": output_audio},
    }
