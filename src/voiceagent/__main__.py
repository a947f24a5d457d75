"""``python -m voiceagent``: the command line."""

from .cli import main

raise SystemExit(main())
