"""Session events -> the page's ``state`` and ``caption`` messages (one subscriber per tab)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..bridges.web import framing
from ..events import field_of

if TYPE_CHECKING:
    from ..bridges.web import WebAudioBackend
    from ..session.session import VoiceAgentSession

__all__ = ["forward_to_page"]


def forward_to_page(session: VoiceAgentSession, page: WebAudioBackend) -> None:
    """Subscribe ``page`` to what the user should see of ``session``: state and captions."""
    last: list[str] = ["connecting"]

    def state(value: framing.PageState) -> None:
        if last[0] != value:
            last[0] = value
            page.send_control(framing.state_message(value))

    def on_agent_audio(event: Any) -> None:
        state("agent_speaking")

    def on_user_text(event: Any) -> None:
        text = (field_of(event, "transcript") or "").strip()
        if not text:
            return  # nothing was understood: no empty bubble
        page.send_control(
            framing.caption_message("user", field_of(event, "item_id"), text, final=True)
        )

    def on_agent_text(event: Any) -> None:
        delta = field_of(event, "delta") or ""
        page.send_control(framing.caption_message("assistant", field_of(event, "item_id"), delta))

    def on_turn(event: Any) -> None:
        if event.role == "assistant":
            page.send_control(
                framing.caption_message(
                    "assistant",
                    event.item_id,
                    event.text,
                    final=True,
                    interrupted=event.interrupted,
                )
            )

    session.on("voiceagent.session_ready", lambda e: state("listening"))
    session.on("input_audio_buffer.speech_started", lambda e: state("user_speaking"))
    session.on("input_audio_buffer.speech_stopped", lambda e: state("thinking"))
    session.on("response.audio.delta", on_agent_audio)
    session.on("voiceagent.playback_finished", lambda e: state("listening"))
    session.on("voiceagent.reconnecting", lambda e: state("reconnecting"))
    session.on("voiceagent.reconnected", lambda e: state("listening"))
    session.on("conversation.item.input_audio_transcription.completed", on_user_text)
    session.on("response.audio_transcript.delta", on_agent_text)
    session.on("voiceagent.turn", on_turn)
