"""The configuration tests live in tests/config/.

This module only keeps ``from test_config import FULL_SESSION_DICT, full_options`` working for
tests/test_connection.py; import them from ``config.full_session`` instead, then delete it.
"""

from __future__ import annotations

from config.full_session import FULL_SESSION_DICT, full_options

__all__ = ["FULL_SESSION_DICT", "full_options"]
