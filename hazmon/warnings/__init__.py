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

Those take the time they need and touch no clock, database or network. On top of them:

- `gather`: the facts from the service's values (alarms, registry, gateways,
  availability, the duties' `DutyFactsSource`); `availability`: the data-availability
  window;
- `engine`: one evaluation round (evaluate → decide → steps) and the manual steps;
- `store`: warnings, history, latches and pending pushes in the alarm database, each
  step in the audit chain;
- `pushes` / `pusher`: the pushes a step asks for, and their delivery on the notify
  channels;
- `settings`: the `warnings:` settings section.

The service runs them (`hazmon.service.warning_part`); the API acts through the engine.
"""
