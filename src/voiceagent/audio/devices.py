"""Audio devices as PortAudio sees them, and choosing one by index or by (part of a) name."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

from ..errors import AudioError

__all__ = ["DeviceInfo", "import_sounddevice", "list_devices", "resolve_device"]

Direction = Literal["input", "output"]


def import_sounddevice() -> ModuleType:
    """Import ``sounddevice``, turning "PortAudio is missing" into an :class:`AudioError`.

    Raises:
        AudioError: PortAudio (the C library behind sounddevice) is not installed or does not
            initialise; the message says how to install it.
    """
    try:
        import sounddevice
    except OSError as exc:  # the Linux wheel does not bundle libportaudio
        system = platform.system()
        if system == "Darwin":
            hint = "install it with: brew install portaudio"
        elif system == "Linux":
            hint = (
                "install it with: sudo apt-get install libportaudio2 "
                "(Fedora: portaudio, Arch: portaudio)"
            )
        else:
            hint = "reinstall the sounddevice package, which bundles it on this platform"
        raise AudioError(f"PortAudio library not found ({exc}); {hint}") from exc
    except Exception as exc:  # e.g. PortAudioError from a broken ALSA configuration
        raise AudioError(f"PortAudio failed to initialise: {exc}") from exc
    module: ModuleType = sounddevice
    return module


@dataclass(frozen=True)
class DeviceInfo:
    """One PortAudio device.

    Attributes:
        index: PortAudio device index (valid until PortAudio is re-initialised).
        name: Device name as the host API reports it.
        hostapi: Host API name, e.g. ``"ALSA"``, ``"Core Audio"``, ``"Windows WASAPI"``.
        max_input_channels: 0 for an output-only device.
        max_output_channels: 0 for an input-only device.
        default_samplerate: The device's preferred rate in Hz.
        is_default_input: True for the system default microphone.
        is_default_output: True for the system default speaker.
    """

    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    is_default_input: bool = False
    is_default_output: bool = False

    def describe(self) -> str:
        """One line for logs and error messages: index, name, host API and channels."""
        marks = []
        if self.is_default_input:
            marks.append("default input")
        if self.is_default_output:
            marks.append("default output")
        mark = f" [{', '.join(marks)}]" if marks else ""
        return (
            f"{self.index}: {self.name!r} ({self.hostapi}, {self.max_input_channels} in, "
            f"{self.max_output_channels} out){mark}"
        )


def list_devices() -> list[DeviceInfo]:
    """The audio devices PortAudio sees now, in index order.

    Raises:
        AudioError: PortAudio is missing (with the install hint).
    """
    sd = import_sounddevice()
    default_in, default_out = _defaults(sd)
    hostapis = sd.query_hostapis()
    return [
        DeviceInfo(
            index=int(d["index"]),
            name=str(d["name"]),
            hostapi=str(hostapis[d["hostapi"]]["name"]),
            max_input_channels=int(d["max_input_channels"]),
            max_output_channels=int(d["max_output_channels"]),
            default_samplerate=float(d["default_samplerate"]),
            is_default_input=int(d["index"]) == default_in,
            is_default_output=int(d["index"]) == default_out,
        )
        for d in sd.query_devices()
    ]


def _defaults(sd: ModuleType) -> tuple[int, int]:
    default_in, default_out = -1, -1
    try:
        default_in = int(sd.default.device[0])
        default_out = int(sd.default.device[1])
        if default_in < 0:
            default_in = int(sd.query_hostapis(0)["default_input_device"])
        if default_out < 0:
            default_out = int(sd.query_hostapis(0)["default_output_device"])
    except Exception:  # no host API at all: both stay -1
        pass
    return default_in, default_out


def resolve_device(spec: int | str | None, direction: Direction) -> DeviceInfo:
    """Choose the device for one direction.

    Args:
        spec: ``None`` for the system default, a PortAudio index (an ``int``, or a string of
            digits such as ``"1"``, as a command line passes it), or a name or part of one
            (case-insensitive). An exact name wins over partial matches; several partial matches
            are an error, so that the choice never depends on enumeration order.
        direction: ``"input"`` (microphone) or ``"output"`` (speaker).

    Raises:
        AudioError: No device at all, none with channels in that direction, no such index or
            name, or an ambiguous name. The message names the device asked for, lists the
            devices seen (or says that there are none and what to install or use instead) and
            says how to choose one.
    """
    devices = list_devices()
    chan = "max_input_channels" if direction == "input" else "max_output_channels"
    usable = [d for d in devices if getattr(d, chan) > 0]
    if spec is None:
        flag = "is_default_input" if direction == "input" else "is_default_output"
        found = [d for d in usable if getattr(d, flag)] or usable[:1]
        if not found:
            what = "microphone" if direction == "input" else "speaker"
            raise AudioError(
                f"no {direction} device found: there is no {what}. " + _seen(devices, direction)
            )
        return found[0]
    if isinstance(spec, str) and spec.strip().isdigit():
        spec = int(spec.strip())
    if isinstance(spec, int):
        match = [d for d in devices if d.index == spec]
        if not match:
            raise AudioError(f"no audio device with index {spec}. " + _seen(devices, direction))
        if getattr(match[0], chan) == 0:
            raise AudioError(
                f"device {match[0].describe()} has no {direction} channels. "
                + _seen(devices, direction)
            )
        return match[0]
    wanted = spec.strip().lower()
    exact = [d for d in usable if d.name.lower() == wanted]
    partial = exact or [d for d in usable if wanted in d.name.lower()]
    if len(partial) == 1:
        return partial[0]
    if not partial:
        raise AudioError(f"no {direction} device matches {spec!r}. " + _seen(devices, direction))
    names = "; ".join(d.describe() for d in partial)
    raise AudioError(
        f"{direction} device name {spec!r} is ambiguous, it matches: {names}. "
        f"Choose with {direction}_device=<index> or a longer part of the name."
    )


def _seen(devices: list[DeviceInfo], direction: Direction) -> str:
    if not devices:
        return (
            "PortAudio sees no audio devices at all. On a server or in a container there is no "
            "sound card: use audio=WavAudio(...) or audio=NullAudio(), or pass the host's sound "
            "device into the container. On a Linux desktop, check that the user is in the "
            "'audio' group and that ALSA reaches the sound server (Debian/Ubuntu: sudo apt-get "
            "install pipewire-alsa, or libasound2-plugins for PulseAudio)."
        )
    listing = "; ".join(d.describe() for d in devices)
    chan = "max_input_channels" if direction == "input" else "max_output_channels"
    none = "" if any(getattr(d, chan) for d in devices) else f" None has {direction} channels."
    what = "microphone" if direction == "input" else "speaker"
    return (
        f"Devices seen: {listing}.{none} Choose with {direction}_device=<index or part of the "
        f"name> (python -m sounddevice lists them too); without a {what}, use WavAudio or "
        "NullAudio."
    )
