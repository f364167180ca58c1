"""The lowest layer: what every other package may use (metrics, clock, time formatting).

It imports nothing from hazmon, so any part can depend on it without pulling in another.
"""
