"""预警: graded warnings derived from alarms and other facts, and their closed loop.

The pure foundations of the warning loop ("collect → push → feed back → close"):

- `levels`: the four levels 红/橙/黄/蓝 and their order;
- `policy`: the province's policy file (rules per level, feedback deadlines, push targets);
- `facts`: the snapshot of what is known about an enterprise, the evaluation's input;
- `evaluate`: which warnings should be open, per hazard source or enterprise, and why;
- `lifecycle`: the warning state machine (feedback, review, on-site check, overdue);
- `feedback`: the enterprise's disposal feedback (处置反馈) and its validation;
- `chain`: the 包保 chain of a hazard source, falling back to the enterprise's.

Nothing here reads a clock, a database or the network: every function takes the time
it needs, so the store, the push channels and the API can be built on top.
"""
