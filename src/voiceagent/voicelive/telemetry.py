"""The SDK's own OpenTelemetry spans (``VoiceLiveInstrumentor``), switched on from one place.

Opt-in, and gated twice: the app calls :func:`instrument_sdk`, and the SDK itself does nothing
unless ``AZURE_EXPERIMENTAL_ENABLE_GENAI_TRACING=true`` is set (the library never sets it for
you). Needs ``pip install 'voiceagent[tracing]'`` (OpenTelemetry and azure-core's OpenTelemetry
bridge).

What the SDK traces: ``connect`` (the session span, ``gen_ai.voice.session_id``, ...), each
``send`` and ``close``. Its ``recv`` spans do not appear: the library reads frames with
``recv_bytes()`` (see ``wire.py``), which the instrumentor does not patch; the library's own
turn spans (``voiceagent.observe.tracing``) cover what happens per turn.
"""

from __future__ import annotations

import logging

__all__ = ["instrument_sdk", "uninstrument_sdk"]

log = logging.getLogger("voiceagent.tracing")


def instrument_sdk(*, record_content: bool = False) -> bool:
    """Turn on the SDK's spans; returns whether they are on.

    Args:
        record_content: Let the SDK record message content (transcripts, instructions) in its
            span events. Off by default: transcripts are personal data.

    Raises:
        ImportError: OpenTelemetry or ``azure-core-tracing-opentelemetry`` is missing (the
            message names the extra to install).
    """
    try:
        from azure.core.settings import settings
        from azure.core.tracing.ext.opentelemetry_span import OpenTelemetrySpan
    except ImportError as exc:
        raise ImportError(
            f"SDK tracing needs OpenTelemetry: pip install 'voiceagent[tracing]' ({exc})"
        ) from exc
    from azure.ai.voicelive.telemetry import VoiceLiveInstrumentor

    if settings.tracing_implementation() is None:
        settings.tracing_implementation = OpenTelemetrySpan
    instrumentor = VoiceLiveInstrumentor()
    if not instrumentor.is_instrumented():
        instrumentor.instrument(enable_content_recording=record_content)
    if not instrumentor.is_instrumented():
        log.warning(
            "the SDK's tracing stays off: set AZURE_EXPERIMENTAL_ENABLE_GENAI_TRACING=true "
            "(the SDK's own switch) to record its connect/send spans"
        )
        return False
    return True


def uninstrument_sdk() -> None:
    """Turn the SDK's spans off again (no-op when they are off)."""
    from azure.ai.voicelive.telemetry import VoiceLiveInstrumentor

    instrumentor = VoiceLiveInstrumentor()
    if instrumentor.is_instrumented():
        instrumentor.uninstrument()
