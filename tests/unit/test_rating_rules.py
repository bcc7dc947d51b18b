from app.ratings.rules import Aggregates, next_tier, rate, tag_level


def test_an_agent_with_no_history_sits_at_the_priors():
    r = rate(Aggregates())
    assert r.satisfaction == 80.0 and r.qa == 95.0 and r.reliability == 95.0
    assert r.composite == 87.5


def test_a_handful_of_bad_surveys_cannot_sink_a_rating():
    few = rate(Aggregates(survey_weight=3, survey_score_sum=3 * 1, surveys=3))
    many = rate(Aggregates(survey_weight=100, survey_score_sum=100 * 1, surveys=100))
    assert few.satisfaction > 55 > many.satisfaction
    assert many.satisfaction < 10


def test_no_shows_hurt_reliability_more_than_late_cancellations():
    base = dict(due_weight=10)
    no_show = rate(Aggregates(no_show_weight=2, **base)).reliability
    late = rate(Aggregates(late_cancel_weight=2, **base)).reliability
    assert no_show < late < rate(Aggregates(**base)).reliability


def test_confirmed_qa_flags_lower_the_qa_score():
    clean = rate(Aggregates(inspected_weight=50)).qa
    flagged = rate(Aggregates(inspected_weight=50, flagged_weight=10)).qa
    assert flagged < clean


def test_tiers_move_one_step_with_hysteresis_and_leave_trainees_alone():
    strong = rate(Aggregates(survey_weight=200, survey_score_sum=200 * 5, surveys=200, inspected_weight=200,
                             due_weight=50, shifts_completed=50))
    assert next_tier(1, strong) == 2 and next_tier(2, strong) == 3 and next_tier(0, strong) == 0
    weak = rate(Aggregates(survey_weight=200, survey_score_sum=200 * 2, surveys=200, due_weight=20,
                           no_show_weight=8, shifts_completed=20))
    assert next_tier(3, weak) == 2 and next_tier(1, weak) == 1


def test_tag_levels_need_volume_and_satisfaction():
    assert tag_level(150, 0.99) == 1
    assert tag_level(250, 0.86) == 2
    assert tag_level(1200, 0.91) == 3
    assert tag_level(1200, 0.86) == 2
