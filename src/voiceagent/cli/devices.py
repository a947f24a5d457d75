"""``voiceagent devices``: the audio devices PortAudio sees, as a table."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

__all__ = ["NO_DEVICES", "devices_command"]

NO_DEVICES = (
    "No audio devices found: PortAudio sees no microphone or speaker.\n"
    "  On Linux install ALSA or PulseAudio/PipeWire and libportaudio2 "
    "(sudo apt-get install libportaudio2), or plug a device in.\n"
    "  Without a sound card: voiceagent run --input-wav question.wav --output-wav reply.wav, "
    "or voiceagent run --text."
)


def devices_command() -> int:
    """Print the devices (or say there are none and what to do); returns the exit code."""
    from voiceagent import AudioError, list_devices

    console = Console(highlight=False)
    try:
        devices = list_devices()
    except AudioError as exc:
        Console(stderr=True).print(f"voiceagent devices: {exc}", markup=False, soft_wrap=True)
        return 1
    if not devices:
        console.print(NO_DEVICES, markup=False, soft_wrap=True)
        return 0
    table = Table(title="Audio devices (use the index or part of the name with --input-device)")
    for column in ("index", "name", "host API", "in", "out", "rate (Hz)", "default"):
        table.add_column(column, justify="right" if column in ("index", "in", "out") else "left")
    for d in devices:
        marks = [
            m for m, on in (("input", d.is_default_input), ("output", d.is_default_output)) if on
        ]
        table.add_row(
            str(d.index),
            d.name,
            d.hostapi,
            str(d.max_input_channels),
            str(d.max_output_channels),
            f"{d.default_samplerate:.0f}",
            ", ".join(marks),
        )
    console.print(table)
    return 0
