"""Drain the virtual ALSA card's pacing FIFOs at the stream's byte rate (a real-time clock).

Usage: python alsa_pacer.py RATE FIFO [FIFO ...]

With ``AUDIOTEST_PACER_LOG=path`` the first FIFO's consumption is logged as lines of
``monotonic_ns total_bytes`` after every read: the time each played frame "reached the card"
(bench/bargein.py uses it).

The ALSA ``file`` plugins write every period into these FIFOs; a write blocks while the pipe is
full, so reading them at ``RATE * 32`` bytes/s (8 ch x S32 after the ``plug`` stage) makes the
PortAudio callbacks arrive in real time. Prints ``ready`` once every FIFO is open.
"""

from __future__ import annotations

import fcntl
import os
import sys
import threading
import time

BYTES_PER_FRAME = 32  # 8 channels x S32_LE, see tests/audio_device.py
F_SETPIPE_SZ = 1031
IDLE_RESET_S = 0.25


def drain(fd: int, rate: int, log_path: str | None = None) -> None:
    bytes_per_s = rate * BYTES_PER_FRAME
    chunk = max(BYTES_PER_FRAME, bytes_per_s // 200)  # ~5 ms per read
    start = time.monotonic()
    consumed = 0
    total = 0
    log = open(log_path, "a", buffering=1) if log_path else None  # noqa: SIM115
    while True:
        before = time.monotonic()
        data = os.read(fd, chunk)
        now = time.monotonic()
        if now - before > IDLE_RESET_S:  # the stream was closed or idle: restart the clock
            start, consumed = now, 0
        consumed += len(data)
        total += len(data)
        if log is not None:
            log.write(f"{time.monotonic_ns()} {total}\n")
        delay = start + consumed / bytes_per_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def main() -> None:
    rate = int(sys.argv[1])
    log_path = os.environ.get("AUDIOTEST_PACER_LOG")
    for n, path in enumerate(sys.argv[2:]):
        if not os.path.exists(path):
            os.mkfifo(path)
        fd = os.open(path, os.O_RDWR)  # never blocks on open, never sees EOF
        fcntl.fcntl(fd, F_SETPIPE_SZ, 4096)
        args = (fd, rate, log_path if n == 0 else None)
        threading.Thread(target=drain, args=args, daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()  # exit when the parent closes our stdin (or kills us)


if __name__ == "__main__":
    main()
