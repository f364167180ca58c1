"""The warning state machine: every action from every state, the refusals with their
reasons, overdue escalation up the regulator levels, raise without a duplicate."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hazmon.domain.regions import Level
from hazmon.warnings.evaluate import Assessment, Reason, evaluate
from hazmon.warnings.feedback import Cause, DisposalFeedback
from hazmon.warnings.levels import WarningLevel
from hazmon.warnings.lifecycle import (
    ACTION_TYPES,
    SYSTEM,
    Accept,
    Action,
    Actor,
    ActorKind,
    EarlyWarning,
    FileFeedback,
    MarkOverdue,
    NoChange,
    OpenNew,
    Raise,
    RaiseOpen,
    RecordOnsiteCheck,
    Return,
    WarningRefused,
    WarningState,
    apply,
    decide,
    open_warning,
    relatch,
)
from hazmon.warnings.policy import WarningPolicy
from tests.clock import MINUTE, T0
from tests.support import ENT, ENT2
from tests.warnings.builders import alarm, enterprise, source

POLICY = WarningPolicy()
RED, ORANGE, YELLOW = WarningLevel.RED, WarningLevel.ORANGE, WarningLevel.YELLOW
OPEN, FILED, RETURNED, CLOSED = (WarningState.OPEN, WarningState.FEEDBACK_FILED,
                                 WarningState.RETURNED, WarningState.CLOSED)

OWNER = Actor("user:zhang", ActorKind.ENTERPRISE, enterprise=ENT)
OTHER_ENTERPRISE = Actor("user:li", ActorKind.ENTERPRISE, enterprise=ENT2)
CELL = Actor("park:wu", ActorKind.REGULATOR, level=Level.CELL)
COUNTY = Actor("county:sun", ActorKind.REGULATOR, level=Level.COUNTY)
CITY = Actor("city:chen", ActorKind.REGULATOR, level=Level.CITY)
PROVINCE = Actor("province:zhou", ActorKind.REGULATOR, level=Level.PROVINCE)


def reason(code: str, level: WarningLevel) -> Reason:
    return Reason(code, "alarm_active", level, f"{code} 说明")


def assessment(level: WarningLevel = ORANGE, *codes: str, source_code: str = "MHS-01"
               ) -> Assessment:
    reasons = tuple(reason(c, level) for c in (codes or (f"{level.value}_rule",)))
    return Assessment(ENT, source_code, "罐区一", "320921", 1, level, reasons)


def feedback(handled_at_ms: int = T0 + 5 * MINUTE) -> DisposalFeedback:
    return DisposalFeedback(
        cause=Cause.INSTRUMENT_FAULT, measures="更换探头并校准", person="张三",
        phone="13812345678", cause_removed=True,
        handled_at=datetime.fromtimestamp(handled_at_ms / 1000, tz=UTC),
    )


def opened(level: WarningLevel = ORANGE) -> EarlyWarning:
    return open_warning("W1", assessment(level), POLICY, T0).warning


def run(w: EarlyWarning, *actions: Action) -> EarlyWarning:
    for a in actions:
        w = apply(w, a, POLICY).warning
    return w


def in_state(state: WarningState, level: WarningLevel = ORANGE) -> EarlyWarning:
    w = opened(level)
    if state is OPEN:
        return w
    w = run(w, FileFeedback(T0 + 10 * MINUTE, OWNER, feedback()))
    if state is FILED:
        return w
    if state is RETURNED:
        return run(w, Return(T0 + 20 * MINUTE, COUNTY, "措施不具体"))
    return run(w, Accept(T0 + 20 * MINUTE, COUNTY))


LATE = T0 + 3 * 60 * MINUTE  # past every deadline the states above have


def action(name: str) -> Action:
    """Each action well formed, by the right actor: only the state can refuse it."""
    actions: dict[str, Action] = {
        "raise": Raise(LATE, RED, (reason("red_rule", RED),)),
        "file_feedback": FileFeedback(LATE, OWNER, feedback()),
        "accept": Accept(LATE, COUNTY, "同意消警"),
        "return": Return(LATE, COUNTY, "措施不具体"),
        "record_onsite_check": RecordOnsiteCheck(LATE, COUNTY, "现场已处置", ("孙宏", "赵敏")),
        "mark_overdue": MarkOverdue(LATE),
    }
    return actions[name]


ACTIONS = [t.name for t in ACTION_TYPES]
# (state, action) → the state it leads to, or the refusal's code.
ALLOWED: dict[tuple[WarningState, str], WarningState] = {
    (OPEN, "raise"): OPEN, (OPEN, "file_feedback"): FILED,
    (OPEN, "record_onsite_check"): OPEN, (OPEN, "mark_overdue"): OPEN,
    (FILED, "raise"): OPEN, (FILED, "accept"): CLOSED, (FILED, "return"): RETURNED,
    (FILED, "record_onsite_check"): FILED,
    (RETURNED, "raise"): OPEN, (RETURNED, "file_feedback"): FILED,
    (RETURNED, "record_onsite_check"): RETURNED, (RETURNED, "mark_overdue"): RETURNED,
}
REFUSED: dict[tuple[WarningState, str], str] = {
    (OPEN, "accept"): "no_feedback", (OPEN, "return"): "no_feedback",
    (FILED, "file_feedback"): "feedback_already_filed",
    (FILED, "mark_overdue"): "feedback_already_filed",
    (RETURNED, "accept"): "no_feedback", (RETURNED, "return"): "no_feedback",
    **{(CLOSED, a): "closed" for a in ACTIONS},
}


def test_the_table_covers_every_state_and_action() -> None:
    product = {(s, a) for s in WarningState for a in ACTIONS}
    assert set(ALLOWED) | set(REFUSED) == product
    assert not set(ALLOWED) & set(REFUSED)


@pytest.mark.parametrize("state", list(WarningState))
@pytest.mark.parametrize("name", ACTIONS)
def test_every_action_from_every_state(state: WarningState, name: str) -> None:
    w = in_state(state)
    act = action(name)
    if (state, name) in ALLOWED:
        step = apply(w, act, POLICY)
        assert step.warning.state is ALLOWED[(state, name)]
        ev = step.event
        assert (ev.warning_id, ev.seq, ev.at_ms, ev.actor, ev.actor_kind, ev.from_state,
                ev.to_state) == ("W1", w.history_len + 1, LATE, act.actor.id, act.actor.kind,
                                 state, step.warning.state)
        assert step.warning.history_len == w.history_len + 1
    else:
        with pytest.raises(WarningRefused) as info:
            apply(w, act, POLICY)
        err = info.value
        assert (err.code, err.action, err.state, err.warning_id) == (
            REFUSED[(state, name)], name, state.value, "W1")
        assert err.reason  # a Chinese sentence for the person
        assert w == in_state(state)  # nothing changed


# --- who may do what ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("act", "code"),
    [
        (FileFeedback(LATE, OTHER_ENTERPRISE, feedback()), "not_the_enterprise"),
        (FileFeedback(LATE, COUNTY, feedback()), "not_the_enterprise"),
        (FileFeedback(LATE, SYSTEM, feedback()), "not_the_enterprise"),
        (Raise(LATE, RED, (reason("r", RED),), actor=COUNTY), "system_only"),
        (MarkOverdue(LATE, actor=OWNER), "system_only"),
        (RecordOnsiteCheck(LATE, OWNER, "自查", ("张三",)), "not_a_regulator"),
        (RecordOnsiteCheck(LATE, COUNTY, "  ", ("孙宏",)), "text_required"),
        (RecordOnsiteCheck(LATE, COUNTY, "已处置", (" ",)), "no_inspectors"),
        (Raise(LATE, ORANGE, (reason("r", ORANGE),)), "not_graver"),
        (Raise(LATE, YELLOW, (reason("r", YELLOW),)), "not_graver"),
        (FileFeedback(T0, OWNER, feedback(T0 + 5 * MINUTE + 1)), "handled_in_future"),
        (FileFeedback(T0, Actor(" ", ActorKind.ENTERPRISE, enterprise=ENT), feedback(T0)),
         "no_actor"),
    ],
)
def test_refusals_while_open(act: Action, code: str) -> None:
    with pytest.raises(WarningRefused) as info:
        apply(opened(), act, POLICY)
    assert info.value.code == code
    assert info.value.reason


@pytest.mark.parametrize(
    ("act", "code"),
    [
        (Accept(LATE, OWNER), "not_a_regulator"),
        (Return(LATE, OWNER, "不行"), "not_a_regulator"),
        (Accept(LATE, CELL), "reviewer_level"),
        (Return(LATE, CELL, "不行"), "reviewer_level"),
        (Return(LATE, COUNTY, "   "), "text_required"),
        (Accept(LATE, COUNTY, "长" * 2001), "text_too_long"),
    ],
)
def test_refusals_of_a_review(act: Action, code: str) -> None:
    with pytest.raises(WarningRefused) as info:
        apply(in_state(FILED), act, POLICY)
    assert info.value.code == code


def test_a_higher_level_may_review_in_the_reviewers_place() -> None:
    for reviewer in (COUNTY, CITY, PROVINCE):
        w = run(in_state(FILED), Accept(LATE, reviewer, "同意"))
        assert (w.state, w.closed_by, w.closed_at_ms) == (CLOSED, reviewer.id, LATE)


def test_the_feedback_is_kept_and_recorded_whole() -> None:
    step = apply(opened(), FileFeedback(T0 + 10 * MINUTE, OWNER, feedback()), POLICY)
    assert step.warning.feedback == feedback()
    assert step.warning.deadline_ms is None
    assert step.event.data["feedback"]["cause"] == "instrument_fault"
    assert step.event.data["feedback"]["phone"] == "13812345678"
    assert step.event.data["on_time"] is True
    assert step.event.event == "feedback_filed"


def test_feedback_after_the_deadline_is_late_and_marks_the_warning_overdue() -> None:
    w = opened()  # orange: 60 minutes
    on_time = apply(w, FileFeedback(T0 + 60 * MINUTE, OWNER, feedback()), POLICY)
    assert (on_time.event.data["on_time"], on_time.warning.overdue) == (True, False)
    late = apply(w, FileFeedback(T0 + 60 * MINUTE + 1, OWNER, feedback()), POLICY)
    assert (late.event.data["on_time"], late.warning.overdue) == (False, True)


def test_a_return_sends_it_back_with_a_new_deadline_and_feedback_again_is_allowed() -> None:
    w = in_state(FILED)
    step = apply(w, Return(T0 + 20 * MINUTE, COUNTY, "  措施不具体  "), POLICY)
    back = step.warning
    assert (back.state, back.returns, back.deadline_ms) == (RETURNED, 1, T0 + 80 * MINUTE)
    assert step.event.data == {"reason": "措施不具体", "deadline_ms": T0 + 80 * MINUTE}
    again = run(back, FileFeedback(T0 + 30 * MINUTE, OWNER, feedback()))
    assert again.state is FILED
    assert run(again, Accept(T0 + 40 * MINUTE, COUNTY)).state is CLOSED


# --- 红: on-site check before closing -----------------------------------------------------


def test_a_red_warning_needs_an_onsite_check_before_it_is_closed() -> None:
    w = in_state(FILED, RED)
    with pytest.raises(WarningRefused) as info:
        apply(w, Accept(LATE, COUNTY), POLICY)
    assert info.value.code == "onsite_check_required"
    assert "现场核查" in info.value.reason
    checked = run(w, RecordOnsiteCheck(LATE, CELL, "泄漏点已封堵", ("吴军",)))
    assert checked.onsite_check is not None
    assert checked.onsite_check.inspectors == ("吴军",)
    assert checked.state is FILED
    closed = run(checked, Accept(LATE + 1, COUNTY, "核查属实"))
    assert closed.state is CLOSED
    # Recorded before the feedback counts too.
    early = run(opened(RED), RecordOnsiteCheck(T0 + MINUTE, COUNTY, "到场", ("孙宏",)),
                FileFeedback(T0 + 10 * MINUTE, OWNER, feedback()), Accept(LATE, COUNTY))
    assert early.state is CLOSED


def test_an_orange_warning_closes_without_an_onsite_check() -> None:
    assert run(in_state(FILED, ORANGE), Accept(LATE, COUNTY)).state is CLOSED


# --- overdue and escalation ---------------------------------------------------------------


def test_overdue_escalates_one_level_at_each_deadline_up_to_the_province() -> None:
    w = opened(RED)  # reviewer county, deadline T0 + 30 min
    assert (w.reviewer, w.deadline_ms) == (Level.COUNTY, T0 + 30 * MINUTE)
    with pytest.raises(WarningRefused) as info:
        apply(w, MarkOverdue(T0 + 30 * MINUTE - 1), POLICY)
    assert info.value.code == "not_due"

    step = apply(w, MarkOverdue(T0 + 30 * MINUTE), POLICY)
    w = step.warning
    assert (w.overdue, w.reviewer, w.deadline_ms, w.escalations) == (
        True, Level.CITY, T0 + 60 * MINUTE, 1)
    assert step.event.event == "overdue"
    assert step.event.data == {"deadline_ms": T0 + 30 * MINUTE, "escalated_to": "city",
                               "next_deadline_ms": T0 + 60 * MINUTE}
    assert step.event.actor == "system:warnings"

    w = run(w, MarkOverdue(T0 + 60 * MINUTE))
    assert (w.reviewer, w.deadline_ms, w.escalations) == (
        Level.PROVINCE, T0 + 90 * MINUTE, 2)
    step = apply(w, MarkOverdue(T0 + 90 * MINUTE), POLICY)
    w = step.warning
    assert (w.reviewer, w.deadline_ms, w.escalations, w.overdue) == (
        Level.PROVINCE, None, 2, True)
    assert step.event.data["escalated_to"] is None
    with pytest.raises(WarningRefused) as info:
        apply(w, MarkOverdue(T0 + 200 * MINUTE), POLICY)
    assert info.value.code == "no_deadline"


def test_after_escalation_the_lower_level_may_no_longer_review() -> None:
    w = run(opened(), MarkOverdue(T0 + 60 * MINUTE),
            FileFeedback(T0 + 70 * MINUTE, OWNER, feedback()))
    assert w.overdue
    with pytest.raises(WarningRefused) as info:
        apply(w, Accept(LATE, COUNTY), POLICY)
    assert info.value.code == "reviewer_level"
    assert "市级" in info.value.reason
    assert run(w, Accept(LATE, CITY)).state is CLOSED


def test_a_returned_warning_is_overdue_at_its_new_deadline() -> None:
    w = in_state(RETURNED)  # returned at T0 + 20 min, orange: due at T0 + 80 min
    with pytest.raises(WarningRefused):
        apply(w, MarkOverdue(T0 + 80 * MINUTE - 1), POLICY)
    assert run(w, MarkOverdue(T0 + 80 * MINUTE)).reviewer is Level.CITY


# --- raise: one warning per subject -------------------------------------------------------


def test_raise_keeps_the_warning_and_its_id_and_merges_the_reasons() -> None:
    w = opened(ORANGE)
    step = apply(w, Raise(T0 + 5 * MINUTE, RED, (reason("red_rule", RED),)), POLICY)
    up = step.warning
    assert (up.id, up.level, up.state) == ("W1", RED, OPEN)
    assert [r.code for r in up.reasons] == ["red_rule", "orange_rule"]
    # The earlier of the running deadline (T0 + 60) and red's from now (T0 + 35).
    assert up.deadline_ms == T0 + 35 * MINUTE
    assert step.event.data["from_level"] == "orange"
    assert step.event.data["to_level"] == "red"


def test_raise_after_feedback_asks_for_feedback_again() -> None:
    w = in_state(FILED, YELLOW)
    up = run(w, Raise(LATE, RED, (reason("red_rule", RED),)))
    assert (up.state, up.deadline_ms, up.feedback) == (OPEN, LATE + 30 * MINUTE, w.feedback)


def test_raise_keeps_an_earlier_running_deadline() -> None:
    w = opened(YELLOW)  # due T0 + 240 min
    up = run(w, Raise(T0 + 230 * MINUTE, ORANGE, (reason("o", ORANGE),)))
    assert up.deadline_ms == T0 + 240 * MINUTE


def test_decide_opens_raises_or_leaves_alone() -> None:
    assert isinstance(decide(None, assessment(ORANGE)), OpenNew)
    assert isinstance(decide(None, None), NoChange)
    w = opened(ORANGE)
    assert isinstance(decide(w, assessment(ORANGE)), NoChange)
    assert isinstance(decide(w, assessment(YELLOW)), NoChange)
    assert isinstance(decide(w, None), NoChange)  # closing is the regulator's, not the rules'
    raised = decide(w, assessment(RED))
    assert isinstance(raised, RaiseOpen)
    assert raised.level is RED


def test_a_closed_warning_is_not_reopened_while_its_conditions_hold() -> None:
    closed = in_state(CLOSED)
    latched = frozenset({"orange_rule"})
    assert isinstance(decide(closed, assessment(ORANGE), latched), NoChange)
    # A new reason opens a new warning with only the new reasons.
    fresh = decide(closed, assessment(ORANGE, "orange_rule", "other_rule"), latched)
    assert isinstance(fresh, OpenNew)
    assert [r.code for r in fresh.reasons] == ["other_rule"]
    # Once the condition has cleared, the latch is gone and it may open again.
    assert relatch(latched, assessment(ORANGE)) == latched
    cleared = relatch(latched, None)
    assert cleared == frozenset()
    assert isinstance(decide(closed, assessment(ORANGE), cleared), OpenNew)


def test_a_worsening_source_has_one_warning_raised_to_red_never_two() -> None:
    """The loop the service will run: evaluate, decide, open or raise; at every minute."""
    warnings: dict[tuple[str, str | None], EarlyWarning] = {}
    events: list[tuple[int, str, str]] = []
    hh = alarm("A1", tag="T101", raised=T0)  # a critical process alarm on tier 3 first
    timeline: list[tuple[int, int | None]] = [(T0, 3), (T0 + 5 * MINUTE, 3),
                                              (T0 + 10 * MINUTE, 1), (T0 + 20 * MINUTE, 1)]
    for now, tier in timeline:
        facts = enterprise(source(tier=tier, alarms=[hh]))
        for a in evaluate(POLICY, facts, now):
            current = warnings.get(a.key)
            match decide(current, a):
                case OpenNew():
                    step = open_warning(f"W{len(warnings) + 1}", a, POLICY, now)
                case RaiseOpen(level=level, reasons=reasons):
                    assert current is not None
                    step = apply(current, Raise(now, level, reasons), POLICY)
                case NoChange():
                    continue
            warnings[a.key] = step.warning
            events.append((now, step.warning.id, step.event.event))
    assert events == [(T0, "W1", "opened"), (T0 + 10 * MINUTE, "W1", "raised")]
    [w] = warnings.values()
    assert w.level is RED
    assert [r.code for r in w.reasons] == ["critical_unacked", "second_level_alarm_low_tier"]


def test_open_warning_records_its_opening() -> None:
    step = open_warning("W9", assessment(RED, "r1", "r2"), POLICY, T0)
    w, ev = step.warning, step.event
    assert (w.state, w.level, w.deadline_ms, w.reviewer, w.history_len) == (
        OPEN, RED, T0 + 30 * MINUTE, Level.COUNTY, 1)
    assert (ev.seq, ev.event, ev.from_state, ev.to_state, ev.actor) == (
        1, "opened", None, OPEN, "system:warnings")
    assert ev.data == {"level": "red", "reasons": ["r1", "r2"],
                       "deadline_ms": T0 + 30 * MINUTE, "reviewer": "county"}


