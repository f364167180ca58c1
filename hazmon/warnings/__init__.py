"""预警: graded warnings derived from alarms and other facts, and their closed loop.

The pure foundations of the warning loop ("collect → push → feed back → close"):

- `levels`: the four levels 红/橙/黄/蓝 and their order;
- `policy`: the province's policy file (rules per level, feedback deadlines, push targets);
- `facts`: the snapshot of what is known about an enterprise, the evaluation's input
  (`alarm_fact` builds one from an alarm-store occurrence);
- `evaluate`: which warnings should be open, per hazard source or enterprise, and why;
- `lifecycle`: the warning state machine (feedback, review, on-site check, overdue);
- `feedback`: the enterprise's disposal feedback (处置反馈) and its validation;
- `chain`: the 包保 chain of a hazard source, falling back to the enterprise's;
- `targets`: whom a warning goes to (chain roles and grid officials by level and tier);
- `records`: warnings and their events as JSON-typed dicts for the store and the audit.
- `report`: the reports (通报) per region and period, and `report_render` their CSV and
  printable page.

The grid itself (province → city → county → cell, with officials) is
`hazmon.domain.regions`.

Nothing here reads a clock, a database or the network: every function takes the time
it needs, so the store, the push channels and the API can be built on top.
"""
