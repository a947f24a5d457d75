"""A virtual ALSA sound card for tests: real PortAudio streams, no sound hardware.

ALSA is pointed (``ALSA_CONFIG_PATH``) at a configuration of ours alone, whose ``default`` PCM
writes everything played to a raw file and reads the microphone from a raw file. Pacing FIFOs,
drained at the stream's byte rate by ``tests/alsa_pacer.py``, make the callbacks real time. See
``shared/docs/headless-audio.md`` for how it was measured.

Variants: ``pinned_rate`` pins the hardware side to one rate **without a rate converter**, like a
hw device locked at 48 kHz: PortAudio then refuses every other rate and the backend must
resample. A second PCM, ``voiceagent_test_speaker`` (output only, plays to the same file), lets
tests select a device by name.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

SPEAKER_NAME = "voiceagent_test_speaker"
_ENV = (
    "ALSA_CONFIG_PATH",
    "AUDIOTEST_OUT",
    "AUDIOTEST_IN",
    "AUDIOTEST_PLAY_FIFO",
    "AUDIOTEST_CAP_FIFO",
)


def _slave(fifo_var: str, pinned_rate: int | None) -> str:
    # Without a rate converter, plug cannot bridge to a pinned rate: the device refuses others.
    rate = 'rate_converter "voiceagent_test_no_converter"' if pinned_rate else ""
    return f"""slave.pcm {{
            type plug
            route_policy "copy"
            {rate}
            slave {{
                pcm {{
                    type file
                    format "raw"
                    file {{ @func getenv vars [ {fifo_var} ] default "/dev/null" }}
                    slave.pcm {{ type null }}
                }}
                format S32_LE
                channels 8
                {f"rate {pinned_rate}" if pinned_rate else ""}
            }}
        }}"""


def _playback(pinned_rate: int | None) -> str:
    return f"""{{
        type file
        format "raw"
        file {{
            @func concat
            strings [ "|exec cat >> "
                      {{ @func getenv vars [ AUDIOTEST_OUT ] default "/dev/null" }} ]
        }}
        {_slave("AUDIOTEST_PLAY_FIFO", pinned_rate)}
    }}"""


def asound_conf(pinned_rate: int | None = None) -> str:
    """The ALSA configuration of the virtual card."""
    capture = f"""{{
        type file
        format "raw"
        file "/dev/null"
        infile {{ @func getenv vars [ AUDIOTEST_IN ] default "/dev/zero" }}
        {_slave("AUDIOTEST_CAP_FIFO", pinned_rate)}
    }}"""
    return f"""pcm.!default {{
    type asym
    playback.pcm {_playback(pinned_rate)}
    capture.pcm {capture}
}}
pcm.{SPEAKER_NAME} {{
    type asym
    playback.pcm {_playback(pinned_rate)}
    hint {{ show on description "voiceagent test speaker" }}
}}
"""


def reinit_portaudio() -> None:
    """Make an already imported sounddevice re-read the ALSA configuration (tests only)."""
    if "sounddevice" in sys.modules:
        sd = sys.modules["sounddevice"]
        sd._terminate()
        sd._initialize()


class VirtualCard:
    """The virtual card: files, FIFOs, pacer process and environment for one test.

    Args:
        root: A private temporary directory.
        rate: The rate streams will run at (the pacer's clock must match it).
        pinned_rate: Accept only this rate (no converter); streams then run at it.
    """

    def __init__(
        self,
        root: Path,
        rate: int = 24000,
        pinned_rate: int | None = None,
        pacer_log: Path | None = None,
    ) -> None:
        self.root = root
        self.pinned_rate = pinned_rate
        self.stream_rate = pinned_rate or rate
        self.config = root / "asound.conf"
        self.out_path = root / "played.raw"
        self.in_path = root / "mic.raw"
        self.play_fifo = root / "play.fifo"
        self.cap_fifo = root / "cap.fifo"
        self.pacer_log = pacer_log
        self._pacer: subprocess.Popen[str] | None = None
        self._saved: dict[str, str | None] = {}

    def start(self) -> VirtualCard:
        self.config.write_text(asound_conf(self.pinned_rate))
        self.out_path.write_bytes(b"")
        self.set_input(np.zeros(0, dtype=np.int16))
        self._pacer = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).with_name("alsa_pacer.py")),
                str(self.stream_rate),
                str(self.play_fifo),
                str(self.cap_fifo),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "AUDIOTEST_PACER_LOG": str(self.pacer_log or "")},
        )
        assert self._pacer.stdout is not None
        line = self._pacer.stdout.readline()  # the FIFOs must have a reader before any open
        if line.strip() != "ready":
            self.close()
            raise RuntimeError(f"alsa_pacer did not start: {line!r}")
        env = {
            "ALSA_CONFIG_PATH": str(self.config),
            "AUDIOTEST_OUT": str(self.out_path),
            "AUDIOTEST_IN": str(self.in_path),
            "AUDIOTEST_PLAY_FIFO": str(self.play_fifo),
            "AUDIOTEST_CAP_FIFO": str(self.cap_fifo),
        }
        for key in _ENV:
            self._saved[key] = os.environ.get(key)
            os.environ[key] = env[key]
        reinit_portaudio()
        return self

    def set_input(self, samples: npt.NDArray[np.int16], pad_s: float = 60.0) -> None:
        """Set the microphone signal (mono int16 at ``stream_rate``), read at the next stream open.

        Padded with zeros: at the end of the file capture would repeat its last buffer.
        """
        pad = np.zeros(int(pad_s * self.stream_rate), dtype=np.int16)
        self.in_path.write_bytes(np.concatenate([samples.astype("<i2"), pad]).tobytes())

    def output(self) -> npt.NDArray[np.int16]:
        """Everything played so far (mono int16 at ``stream_rate``)."""
        data = self.out_path.read_bytes()
        return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.int16)

    def pause_clock(self) -> None:
        """Stop the card's clock (the pacer): callbacks stop, as with a hung driver."""
        assert self._pacer is not None
        self._pacer.send_signal(signal.SIGSTOP)

    def resume_clock(self) -> None:
        assert self._pacer is not None
        self._pacer.send_signal(signal.SIGCONT)

    def close(self) -> None:
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved.clear()
        reinit_portaudio()
        if self._pacer is not None:  # killed last: a FIFO without reader hangs any open stream
            self._pacer.send_signal(signal.SIGCONT)
            self._pacer.kill()
            self._pacer.wait(timeout=5)
            if self._pacer.stdin is not None:
                self._pacer.stdin.close()
            if self._pacer.stdout is not None:
                self._pacer.stdout.close()
            self._pacer = None
