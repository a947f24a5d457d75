"""Voice Live wire facts shared by the client and the emulator.

Pure data and pure functions: no SDK import, no I/O. Every table the client and the emulator
both need lives here once (formats and rates, event and voice names, close codes, G.711), so
that the two sides cannot drift apart.
"""
