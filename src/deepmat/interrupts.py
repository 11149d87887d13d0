"""Ctrl-C while training: taken between two optimiser steps, never inside one, so that the
checkpoint an interrupted run writes is a state the run passed through."""

from __future__ import annotations

import signal
import threading
from typing import Any


class DeferredInterrupt:
    """Ctrl-C during training takes effect between two optimiser steps, never inside one: the
    first SIGINT only sets :attr:`pending`, and :meth:`check` (called at batch boundaries)
    raises ``KeyboardInterrupt`` there, so the checkpoint written then is a state the run
    passed through and a resume continues bit for bit. A second SIGINT stops at once
    (:attr:`forced`). Outside the main thread, or when SIGINT is ignored, nothing changes."""

    def __init__(self) -> None:
        self.pending = False
        self.forced = False
        self.installed = False
        self.previous: Any = None

    def __enter__(self) -> DeferredInterrupt:
        if threading.current_thread() is threading.main_thread():
            if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
                self.previous = signal.signal(signal.SIGINT, self._handle)
                self.installed = True
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.pending:
            self.forced = True
            raise KeyboardInterrupt
        self.pending = True

    def check(self) -> None:
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt

    def __exit__(self, *exc: Any) -> None:
        if self.installed:
            # a handler installed from C reads back as None: restore Python's default then
            signal.signal(
                signal.SIGINT, self.previous if self.previous is not None else signal.default_int_handler
            )
            self.installed = False
