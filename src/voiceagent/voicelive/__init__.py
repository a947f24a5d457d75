"""The SDK edge: the only package that imports ``azure.ai.voicelive``.

* :mod:`.connector` opens connections (mode and credential checks, handshake errors, redaction);
* :mod:`.wire` sends typed client events and receives frames no malformed input can break;
* :mod:`.requests` turns :class:`~voiceagent.SessionOptions` into the SDK's ``RequestSession``;
* :mod:`.reconnect` decides whether and when to reconnect.

Everything above this package (the session, tools, the CLI) sees plain data and the library's
own errors, never an SDK exception.
"""
