"""Phone calls as audio backends: Twilio Media Streams and Azure Communication Services.

``twilio`` and ``acs`` are pure serializers (wire text <-> small records); ``backend`` is one
:class:`~voiceagent.audio.base.AudioBackend` for both, over any WebSocket (it is given a
"send a text frame" callable and fed the frames received).
"""
