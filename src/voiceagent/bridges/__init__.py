"""Audio backends whose "device" is a remote peer (a browser tab, a phone line).

Bridges import :mod:`voiceagent.audio` and :mod:`voiceagent.protocol` only, never the session:
they implement the :class:`~voiceagent.audio.base.AudioBackend` seam for a peer, and the
application (``voiceagent.serve``) wires a session to them.
"""
