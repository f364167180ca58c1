"""What one step of a rule did to its condition: raised it, cleared it, or nothing.

Every rule's step function (threshold, rate, trend, health, gateway, voting) returns a
`Change`. It is an `IntEnum` so that ``if change:`` means "something changed" (NONE is
0). Hot paths compare members by identity through module-level aliases
(``_RAISED = Change.RAISED``): looking a member up on the class costs about ten times a
global load in Python 3.11.
"""

from __future__ import annotations

from enum import IntEnum


class Change(IntEnum):
    CLEARED = -1
    NONE = 0
    RAISED = 1
