"""The emulated avatar: ``avatar`` validation, ICE servers, and a real WebRTC peer (aiortc).

As the service does, the emulator checks ``session.update``'s ``avatar``, reports the ICE servers
in ``session.updated`` (the emulator's own STUN server on 127.0.0.1, ``stun.py``; the emulated
avatar offers host candidates on 127.0.0.1 only) and answers ``session.avatar.connect
{client_sdp}`` with ``session.avatar.connecting {server_sdp}``. The peer then streams a
synthetic face whose mouth opens with the loudness of the agent's voice, and that voice on an
audio track. The voice is the ``response.audio.delta`` audio the session sends (it keeps going
over the WebSocket too: whether the service still sends it with an avatar is unverified); a
barge-in or a cancel empties it.

aiortc is optional (the ``avatar`` extra): without it ``session.avatar.connect`` gets an error
saying how to install it.
"""

from __future__ import annotations

import asyncio
import base64
import fractions
import logging
import re
import time
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard

import numpy as np
import numpy.typing as npt

from voiceagent.protocol.avatar_sdp import decode_sdp, encode_sdp, is_encoded_sdp
from voiceagent.protocol.formats import OUTPUT_FORMATS
from voiceagent.protocol.g711 import alaw_decode, ulaw_decode

from .session_config import ConfigError
from .settings import SessionSettings

if TYPE_CHECKING:
    from aiortc import RTCPeerConnection

__all__ = ["AvatarLink", "check_avatar"]

logger = logging.getLogger(__name__)

_WEBSOCKET_NOT_EMULATED = (
    "output_protocol 'websocket' is not emulated: the service then streams the avatar as "
    "response.video.delta events whose payload format the API reference does not document "
    "(Microsoft's samples treat it as fragmented MP4, H.264 video with AAC audio). "
    "Use output_protocol 'webrtc' (the default) with the emulator."
)
_AVATAR_KEYS = frozenset(
    {"type", "character", "style", "customized", "model", "video", "scene", "ice_servers"}
    | {"output_protocol", "output_audit_audio"}
)
_VIDEO_KEYS = frozenset({"bitrate", "codec", "crop", "resolution", "background", "gop_size"})
_HEX_COLOR = re.compile(r"#[0-9A-Fa-f]{6}(?:[0-9A-Fa-f]{2})?")
_DEFAULT_SIZE = (640, 360)
_MAX_SIZE = (1280, 720)  # larger asks are drawn at this size: the emulator shares the CPU
_AUDIO_RATE = 48000  # what WebRTC's Opus runs at
_AUDIO_FRAME = 960  # 20 ms


def _fail(param: str, message: str) -> None:
    raise ConfigError(f"session.avatar{param}", message)


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def check_avatar(config: dict[str, Any]) -> None:
    """Refuse a wrong ``avatar`` in the merged session config, as the service does.

    Raises:
        ConfigError: ``param`` names the offending field, the message how to fix it.
    """
    avatar = config.get("avatar")
    if avatar is None:
        return
    if not isinstance(avatar, dict):
        _fail("", "avatar must be an object or null.")
    unknown = sorted(set(avatar) - _AVATAR_KEYS)
    if unknown:
        _fail(f".{unknown[0]}", f"Unknown avatar parameter {unknown[0]!r}.")
    character = avatar.get("character")
    if not isinstance(character, str) or not character.strip():
        _fail(".character", "avatar.character is required: the avatar character, e.g. 'lisa'.")
    kind = avatar.get("type", "video-avatar")
    if kind not in ("video-avatar", "photo-avatar"):
        _fail(".type", f"Invalid avatar type {kind!r}; expected video-avatar or photo-avatar.")
    if kind == "photo-avatar" and not isinstance(avatar.get("model"), str):
        _fail(".model", "A photo avatar needs model, e.g. 'vasa-1'.")
    for key in ("style", "model"):
        if avatar.get(key) is not None and not isinstance(avatar[key], str):
            _fail(f".{key}", f"avatar.{key} must be a string.")
    for key in ("customized", "output_audit_audio"):
        if avatar.get(key) is not None and not isinstance(avatar[key], bool):
            _fail(f".{key}", f"avatar.{key} must be true or false.")
    protocol = avatar.get("output_protocol", "webrtc")
    if protocol == "websocket":
        _fail(".output_protocol", _WEBSOCKET_NOT_EMULATED)
    if protocol != "webrtc":
        _fail(
            ".output_protocol",
            f"Invalid output_protocol {protocol!r}; expected 'webrtc' (the default) or "
            "'websocket'.",
        )
    if avatar.get("video") is not None:
        _check_video(avatar["video"])


def _check_video(video: Any) -> None:
    if not isinstance(video, dict):
        _fail(".video", "avatar.video must be an object.")
    unknown = sorted(set(video) - _VIDEO_KEYS)
    if unknown:
        _fail(f".video.{unknown[0]}", f"Unknown avatar video parameter {unknown[0]!r}.")
    codec = video.get("codec", "h264")
    if codec != "h264":
        _fail(".video.codec", f"Invalid video codec {codec!r}; only 'h264' is supported.")
    bitrate = video.get("bitrate")
    if bitrate is not None and (not _is_int(bitrate) or bitrate <= 0):
        _fail(".video.bitrate", f"bitrate must be a positive integer (bits/s), got {bitrate!r}.")
    resolution = video.get("resolution")
    sizes = [resolution.get(k) for k in ("width", "height")] if isinstance(resolution, dict) else []
    if resolution is not None and not (
        len(sizes) == 2 and all(_is_int(v) and v > 0 for v in sizes)
    ):
        _fail(".video.resolution", "resolution needs width and height, integers > 0.")
    crop = video.get("crop")
    corners = [crop.get(k) for k in ("top_left", "bottom_right")] if isinstance(crop, dict) else []
    if crop is not None and not all(
        isinstance(c, list) and len(c) == 2 and all(_is_int(v) and v >= 0 for v in c)
        for c in corners or [None]
    ):
        _fail(".video.crop", "crop needs top_left and bottom_right, [x, y] integers >= 0.")
    background = video.get("background")
    if background is not None:
        if not isinstance(background, dict) or ("color" in background) == (
            "image_url" in background
        ):
            _fail(".video.background", "background takes either color or image_url.")
        color = background.get("color")
        if color is not None and (not isinstance(color, str) or not _HEX_COLOR.fullmatch(color)):
            _fail(".video.background.color", f"Invalid color {color!r}; use e.g. '#00FF00FF'.")


class _Session(Protocol):
    config: dict[str, Any]
    session_id: str
    settings: SessionSettings

    async def send_event(self, event: dict[str, Any]) -> None: ...

    async def send_error(
        self,
        message: str,
        *,
        code: str | None = ...,
        error_type: str = ...,
        param: str | None = ...,
        event_id: str | None = ...,
    ) -> None: ...


class AvatarLink:
    """The session's avatar: what ``session.updated`` adds, the peer, the voice it streams."""

    def __init__(self, session: _Session) -> None:
        self._session = session
        self._peer: RTCPeerConnection | None = None
        self._voice: VoiceTrack | None = None
        self._speaking: Any = None  # the response whose audio was last fed
        self._silenced: Any = None  # the response cut off by a barge-in
        self.connects = 0
        """How many ``session.avatar.connect`` were answered (observation for tests)."""

    @property
    def peer(self) -> RTCPeerConnection | None:
        """The current WebRTC peer, if a client connected one."""
        return self._peer

    def decorate(self, view: dict[str, Any]) -> None:
        """Add the ICE servers to a ``session.created``/``updated`` view with an avatar."""
        if isinstance(view.get("avatar"), dict):
            servers = self._session.settings.ice_servers
            view["avatar"]["ice_servers"] = [{**s, "urls": list(s["urls"])} for s in servers]

    def observe(self, event: dict[str, Any]) -> None:
        """Feed the agent's voice to the peer; a barge-in or cancel empties what is queued."""
        voice = self._voice
        if voice is None:
            return
        kind = event.get("type")
        if kind == "response.audio.delta" and isinstance(event.get("delta"), str):
            self._speaking = event.get("response_id")
            if self._speaking != self._silenced:
                voice.feed(_pcm16(base64.b64decode(event["delta"]), self._session.config))
        elif kind in ("input_audio_buffer.speech_started", "output_audio_buffer.cleared") or (
            kind == "response.done"
            and (event.get("response") or {}).get("status") in ("cancelled", "failed")
        ):
            # The rest of a reply still streaming is not spoken either.
            self._silenced = self._speaking
            voice.clear()

    async def on_connect(self, event: dict[str, Any]) -> None:
        """Answer ``session.avatar.connect {client_sdp}`` with ``session.avatar.connecting``."""
        event_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
        avatar = self._session.config.get("avatar")
        sdp = event.get("client_sdp")
        if not isinstance(avatar, dict):
            await self._session.send_error(
                "The avatar is not configured; send session.update with avatar first.",
                code="invalid_request",
                event_id=event_id,
            )
            return
        try:
            offer = decode_sdp(sdp) if isinstance(sdp, str) else ""
        except ValueError as exc:
            offer, problem = "", str(exc)
        else:
            problem = "expected SDP text (v=0...) or its base64 JSON form"
        if "m=" not in offer:
            await self._session.send_error(
                f"client_sdp must be the client's SDP offer: {problem}.",
                code="invalid_value",
                param="client_sdp",
                event_id=event_id,
            )
            return
        try:
            answer = await self._answer(offer, avatar)
        except ImportError:
            await self._session.send_error(
                "The emulated avatar needs aiortc: pip install 'voiceagent[avatar]'.",
                code="unsupported_event",
                event_id=event_id,
            )
            return
        except ValueError as exc:
            await self._session.send_error(
                f"Invalid client_sdp: {exc}", code="invalid_value", param="client_sdp"
            )
            return
        self.connects += 1
        # The answer in the offer's form: base64 JSON (as Microsoft's samples send) or plain SDP.
        if isinstance(sdp, str) and is_encoded_sdp(sdp):
            answer = encode_sdp(answer, "answer")
        await self._session.send_event({"type": "session.avatar.connecting", "server_sdp": answer})

    async def _answer(self, offer: str, avatar: dict[str, Any]) -> str:
        from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

        use_loopback_candidates()
        await self.close()  # a new offer replaces the old connection
        # No ICE servers: aiortc would otherwise ask Google's public STUN server.
        peer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        voice = VoiceTrack()
        try:
            await peer.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            peer.addTrack(FaceTrack(voice, _video_size(avatar), _background(avatar)))
            peer.addTrack(voice)
            await peer.setLocalDescription(await peer.createAnswer())
        except Exception:
            await peer.close()
            raise
        self._peer, self._voice = peer, voice
        return str(peer.localDescription.sdp)

    async def close(self) -> None:
        """Close the peer (with the session, or when a new offer replaces it)."""
        peer, self._peer, self._voice = self._peer, None, None
        if peer is not None:
            await peer.close()


_LOOPBACK_ONLY = False


def use_loopback_candidates() -> None:
    """Make aioice gather host candidates on 127.0.0.1 only.

    aioice leaves loopback out of its host addresses by default (``get_host_addresses`` skips
    127.0.0.1), and every test here must stay on loopback, so the emulator replaces that public
    module function. This applies to every aiortc peer in this process.
    """
    global _LOOPBACK_ONLY
    if _LOOPBACK_ONLY:
        return
    import aioice.ice

    def loopback_only(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return ["127.0.0.1"] if use_ipv4 else []

    aioice.ice.get_host_addresses = loopback_only
    _LOOPBACK_ONLY = True


def _pcm16(data: bytes, config: dict[str, Any]) -> npt.NDArray[np.float32]:
    """The agent's audio as float samples at 48 kHz."""
    fmt = str(config.get("output_audio_format", "pcm16"))
    rate, encoding = OUTPUT_FORMATS.get(fmt, (24000, "pcm16"))
    if fmt == "g711_ulaw":
        data = ulaw_decode(data)
    elif fmt == "g711_alaw":
        data = alaw_decode(data)
    elif encoding != "pcm16":
        return np.zeros(0, np.float32)
    samples = np.frombuffer(data[: len(data) // 2 * 2], "<i2").astype(np.float32)
    if rate == _AUDIO_RATE or not len(samples):
        return samples
    count = len(samples) * _AUDIO_RATE // rate
    positions = np.arange(count, dtype=np.float64) * rate / _AUDIO_RATE
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)


def _video_size(avatar: dict[str, Any]) -> tuple[int, int]:
    resolution = (avatar.get("video") or {}).get("resolution")
    if not resolution:
        return _DEFAULT_SIZE
    width, height = int(resolution["width"]), int(resolution["height"])
    scale = min(1.0, _MAX_SIZE[0] / width, _MAX_SIZE[1] / height)
    # Even sizes: the video encoders subsample chroma by two.
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def _background(avatar: dict[str, Any]) -> tuple[int, int, int]:
    color = ((avatar.get("video") or {}).get("background") or {}).get("color")
    if isinstance(color, str) and _HEX_COLOR.fullmatch(color):
        return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)
    return (40, 60, 90)


try:
    from aiortc import MediaStreamTrack, VideoStreamTrack
except ImportError:  # the avatar extra is not installed: on_connect says so
    pass
else:
    from av import AudioFrame, VideoFrame

    class VoiceTrack(MediaStreamTrack):
        """The agent's voice at 48 kHz, paced in 20 ms frames (silence when it is quiet)."""

        kind = "audio"

        def __init__(self) -> None:
            super().__init__()
            self._queue = np.zeros(0, np.float32)
            self._start: float | None = None
            self._pts = 0
            self.level = 0.0
            """Loudness of the frame last sent, 0..1 (what the mouth follows)."""

        def feed(self, samples: npt.NDArray[np.float32]) -> None:
            """Queue agent audio (float samples in the PCM16 range, 48 kHz)."""
            self._queue = np.concatenate([self._queue, samples])

        def clear(self) -> None:
            """Drop what is queued (barge-in: the avatar stops talking)."""
            self._queue = np.zeros(0, np.float32)

        async def recv(self) -> AudioFrame:
            """The next 20 ms frame, at its time."""
            if self._start is None:
                self._start = time.monotonic()
            else:
                self._pts += _AUDIO_FRAME
            delay = self._start + self._pts / _AUDIO_RATE - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            chunk = self._queue[:_AUDIO_FRAME]
            self._queue = self._queue[_AUDIO_FRAME:]
            samples = np.zeros(_AUDIO_FRAME, np.int16)
            samples[: len(chunk)] = np.clip(chunk, -32768, 32767).astype(np.int16)
            rms = float(np.sqrt(np.mean(np.square(chunk)))) if len(chunk) else 0.0
            self.level = min(1.0, rms / 6000.0)
            frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = _AUDIO_RATE
            frame.pts = self._pts
            frame.time_base = fractions.Fraction(1, _AUDIO_RATE)
            return frame

    class FaceTrack(VideoStreamTrack):
        """A simple face at 30 frames/s whose mouth opens with the voice's loudness."""

        def __init__(
            self, voice: VoiceTrack, size: tuple[int, int], background: tuple[int, int, int]
        ) -> None:
            super().__init__()
            self._voice = voice
            width, height = size
            yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
            self._yy, self._xx = yy, xx
            self._size = size
            image = np.empty((height, width, 3), np.uint8)
            image[:] = background
            cx, cy, r = width / 2, height / 2, height * 0.38
            image[(xx - cx) ** 2 + (yy - cy) ** 2 <= r * r] = (240, 200, 120)
            for ex in (cx - r * 0.38, cx + r * 0.38):
                image[(xx - ex) ** 2 + (yy - (cy - r * 0.25)) ** 2 <= (r * 0.1) ** 2] = (30, 30, 30)
            self._face = image
            self._mouth = (cx, cy + r * 0.45, r * 0.35)

        async def recv(self) -> VideoFrame:
            """The next frame, at its time."""
            pts, time_base = await self.next_timestamp()
            image = self._face.copy()
            mx, my, half_width = self._mouth
            half_height = max(1.0, half_width * (0.08 + 0.6 * self._voice.level))
            mouth = ((self._xx - mx) / half_width) ** 2 + ((self._yy - my) / half_height) ** 2 <= 1
            image[mouth] = (150, 20, 30)
            frame = VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = pts
            frame.time_base = time_base
            return frame
