"""The conversation logs' writer: one thread for the whole process, files kept open.

Writing a line used to open, append and close the file on the session's receive task, in the
middle of a barge-in; with many sessions in one process that is file I/O on the event loop for
every turn. Now :meth:`LogWriter.append` only queues the line; the ``voiceagent-conversation-log``
thread opens each file once (0600, its folder 0700 when created) and hands every line to the
kernel with one unbuffered ``os.write`` as soon as it is queued. A line handed to the kernel
survives the process being killed (SIGKILL), exactly as before: like before, there is no
``fsync`` (a power cut may lose the last lines; the process dying does not).

:meth:`LogWriter.close` (and the interpreter's exit) drains what is queued, so nothing is lost
on close.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import queue
import threading
import weakref
from collections.abc import Callable
from pathlib import Path

__all__ = ["WRITER_THREAD_NAME", "LogWriter"]

log = logging.getLogger("voiceagent.conversation")

WRITER_THREAD_NAME = "voiceagent-conversation-log"

_Item = tuple["LogWriter", str | None, int, threading.Event | None]
"""(file, line (None closes the file), the line's number, event set once done)."""

_queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
_thread: threading.Thread | None = None
_thread_lock = threading.Lock()
_open_writers: weakref.WeakSet[LogWriter] = weakref.WeakSet()


def _ensure_thread() -> None:
    global _thread
    with _thread_lock:
        if _thread is None or not _thread.is_alive():
            # A daemon thread cannot hold the interpreter's exit; atexit drains it first.
            _thread = threading.Thread(target=_run, name=WRITER_THREAD_NAME, daemon=True)
            _thread.start()


def _run() -> None:
    while True:
        writer, line, number, done = _queue.get()
        try:
            if line is None:
                writer._close_file()
            else:
                writer._write_line(line)
                writer._mark_written(number)
        finally:
            if done is not None:
                done.set()


class LogWriter:
    """One JSON Lines file, appended from the writer thread.

    Args:
        path: The file (created 0600; missing folders created 0700).
        on_error: Called (from the writer thread) with the first ``OSError``; later lines are
            dropped silently, the turns stay in memory.
    """

    def __init__(self, path: Path, on_error: Callable[[OSError], None]) -> None:
        self.path = path
        self._on_error = on_error
        self._fd: int | None = None
        self._failed = False
        self._queued = 0  # lines appended (only the caller's thread changes it)
        self._written = 0  # lines handed to the kernel (or dropped after a failure)
        self._progress = threading.Condition()

    @property
    def appended(self) -> int:
        """How many lines were appended so far (the last line's number)."""
        return self._queued

    @property
    def pending(self) -> bool:
        """Whether some appended line is not written yet."""
        return self._written < self._queued

    def append(self, line: str) -> int:
        """Queue ``line`` (no newline) for the file; returns at once (reopens after close).

        Returns:
            The line's number, for :meth:`wait_written`.
        """
        _open_writers.add(self)
        _ensure_thread()
        self._queued += 1
        _queue.put((self, line, self._queued, None))
        return self._queued

    def wait_written(self, number: int, timeout: float = 5.0) -> bool:
        """Block until line ``number`` (and every one before it) is written."""
        with self._progress:
            return self._progress.wait_for(lambda: self._written >= number, timeout)

    def _mark_written(self, number: int) -> None:
        with self._progress:
            self._written = number
            self._progress.notify_all()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, then close the file (blocks up to ``timeout`` s; idempotent)."""
        if self not in _open_writers:
            return  # nothing written since the last close
        done = threading.Event()
        _ensure_thread()
        _queue.put((self, None, 0, done))
        if threading.current_thread().name != WRITER_THREAD_NAME:
            done.wait(timeout)
        _open_writers.discard(self)

    def _write_line(self, line: str) -> None:
        if self._failed:
            return
        try:
            if self._fd is None:
                _make_private_dir(self.path.parent)
                # Transcripts are personal data: readable by their owner only.
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            data = (line + "\n").encode("utf-8")
            while data:  # os.write may write part of a large line
                data = data[os.write(self._fd, data) :]
        except OSError as exc:
            self._failed = True
            self._on_error(exc)

    def _close_file(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


def _make_private_dir(directory: Path) -> None:
    """Create ``directory`` (and parents) 0700; an existing one is left as it is."""
    if not directory.is_dir():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)


@atexit.register
def _drain_at_exit() -> None:
    for writer in list(_open_writers):
        writer.close(timeout=2.0)
