"""PortAudio streams: rate negotiation, opening, and blocking calls bounded in daemon threads.

The job of :class:`~voiceagent.audio.SoundDeviceAudio` split off its callbacks: everything here
runs once per ``start``/``stop``, on the event loop thread or in a short-lived daemon thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

from ..errors import AudioError
from .devices import DeviceInfo

__all__ = [
    "FALLBACK_RATES",
    "StreamSide",
    "close_streams",
    "default_block",
    "device_block",
    "negotiate",
    "open_streams",
    "run_blocking",
]

logger = logging.getLogger("voiceagent.audio.sounddevice_backend")

_T = TypeVar("_T")
FALLBACK_RATES = (48000, 44100, 32000, 16000, 96000, 22050, 8000)
"""Rates tried, after the device's default, when a device refuses the session rate (Hz)."""


def default_block(sample_rate: int, session_block: int) -> int:
    """Device block (frames at the session rate): 10 ms when the session block is two of them.

    Shorter blocks let a flush reach the device sooner (``bench/bargein.py``); microphone audio
    is still handed to the event loop once per session block.
    """
    half, ten_ms = session_block // 2, sample_rate // 100
    return half if half == ten_ms and session_block % 2 == 0 else session_block


def device_block(session_block: int, session_rate: int, device_rate: int) -> int:
    """Frames per device block lasting as long as ``session_block`` frames at the session rate."""
    return max(1, round(session_block * device_rate / session_rate))


def negotiate(
    sd: ModuleType, dev: DeviceInfo, direction: str, rate: int, resample: bool
) -> tuple[int, int]:
    """Find ``(rate, channels)`` the device accepts: the session rate and mono if possible.

    Args:
        sd: The ``sounddevice`` module.
        dev: The device.
        direction: ``"input"`` or ``"output"``.
        rate: The session rate (Hz), tried first.
        resample: Also try the device's default rate and :data:`FALLBACK_RATES` (the caller
            converts with soxr); False: only ``rate``.

    Raises:
        AudioError: No rate works; the message names the device and says what to change.
    """
    check = sd.check_input_settings if direction == "input" else sd.check_output_settings
    max_ch = dev.max_input_channels if direction == "input" else dev.max_output_channels
    channel_options = [c for c in (1, 2) if c <= max_ch] or [1]
    rates = [rate]
    if resample:
        rates += [r for r in (int(dev.default_samplerate), *FALLBACK_RATES) if r != rate]
    first_error: Exception | None = None
    for r in dict.fromkeys(rates):
        for ch in channel_options:
            try:
                check(device=dev.index, samplerate=r, channels=ch, dtype="int16")
            except Exception as exc:
                first_error = first_error or exc
                continue
            if r != rate:
                logger.warning(
                    "%s device %s refuses %d Hz (%s); opening it at %d Hz and resampling with soxr",
                    direction,
                    dev.describe(),
                    rate,
                    first_error,
                    r,
                )
            return r, ch
    if not resample:
        raise AudioError(
            f"{direction} device {dev.describe()} refuses {rate} Hz (its default rate is "
            f"{dev.default_samplerate:g} Hz): {first_error}. Pass resample=True to convert with "
            f"soxr, or choose another device with {direction}_device=<index or name part>."
        )
    raise AudioError(
        f"{direction} device {dev.describe()} accepts none of the rates "
        f"{', '.join(str(r) for r in dict.fromkeys(rates))} Hz as 16-bit mono or stereo: "
        f"{first_error}. Choose another with {direction}_device=<index or name part>."
    )


@dataclass(frozen=True)
class StreamSide:
    """One direction of the audio as it will be opened.

    Attributes:
        device: The PortAudio device.
        rate: The rate it opens at (Hz).
        channels: Channels it opens with (the backend uses the first; output is copied to all).
        blocksize: Frames per callback.
    """

    device: DeviceInfo
    rate: int
    channels: int
    blocksize: int


def open_streams(
    sd: ModuleType,
    *,
    duplex: bool,
    inp: StreamSide,
    out: StreamSide,
    latency: float | str,
    duplex_callback: Callable[..., None],
    input_callback: Callable[..., None],
    output_callback: Callable[..., None],
) -> list[Any]:
    """Create (not start) one duplex stream, or an input and an output stream. Blocking."""
    common: dict[str, Any] = {"dtype": "int16", "latency": latency}
    if duplex:
        return [
            sd.Stream(
                device=(inp.device.index, out.device.index),
                samplerate=out.rate,
                blocksize=out.blocksize,
                channels=(inp.channels, out.channels),
                callback=duplex_callback,
                **common,
            )
        ]
    return [
        sd.InputStream(
            device=inp.device.index,
            samplerate=inp.rate,
            blocksize=inp.blocksize,
            channels=inp.channels,
            callback=input_callback,
            **common,
        ),
        sd.OutputStream(
            device=out.device.index,
            samplerate=out.rate,
            blocksize=out.blocksize,
            channels=out.channels,
            callback=output_callback,
            **common,
        ),
    ]


async def close_streams(streams: list[Any]) -> None:
    """Abort (never drain) and close each stream, waiting at most 1 s per stream."""
    for stream in streams:

        def close(s: Any = stream) -> None:
            s.abort(ignore_errors=True)  # abort, not stop: never wait for buffers to drain
            s.close(ignore_errors=True)

        try:
            await run_blocking(close, timeout=1.0)
        except asyncio.TimeoutError:
            logger.warning("audio stream did not close within 1 s; abandoning it")
        except Exception:
            logger.exception("error while closing the audio stream")


async def run_blocking(fn: Callable[[], _T], timeout: float) -> _T:
    """Run a blocking PortAudio call in a daemon thread, waiting at most ``timeout`` seconds.

    Not ``asyncio.to_thread``: a hung call there would also hang the executor shutdown at exit.
    """
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[_T] = loop.create_future()

    def settle(result: _T | None, error: BaseException | None) -> None:
        if fut.done():
            return
        if error is not None:
            fut.set_exception(error)
        else:
            fut.set_result(result)  # type: ignore[arg-type]

    def work() -> None:
        try:
            result = fn()
        except BaseException as exc:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, None, exc)
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, result, None)

    threading.Thread(target=work, name="voiceagent-portaudio", daemon=True).start()
    return await asyncio.wait_for(fut, timeout)
