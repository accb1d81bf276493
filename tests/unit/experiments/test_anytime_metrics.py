"""The metrics along the stream of dynamos_plugin/experiments/anytime.py (area under the anytime-accuracy curve,
stability gap and its recovery, per-class forgetting; per cell over seeds and paired against Dynamos), against
values computed by hand from small curves."""

import pytest

from dynamos_plugin.experiments import anytime


def point(step, accuracy, seen_accuracy, arrivals=(), total=10):
    return {'step': step, 'task': 1, 'seen': [], 'seen_accuracy': seen_accuracy,
            'class_accuracy': {str(c): a for c, a in accuracy.items()},
            'class_total': {str(c): total for c in accuracy}, 'arrivals': [list(a) for a in arrivals],
            'end_of_task': False}


# classes 0 and 1 arrive at step 1; class 2 at step 5, in a batch of classes 1 and 2 (MNIST-360's next pair)
CURVE = [point(2, {0: 80, 1: 90, 2: 0}, 85.0, arrivals=[(1, [0, 1], [0, 1])]),
         point(4, {0: 100, 1: 100, 2: 0}, 100.0),
         point(6, {0: 40, 1: 100, 2: 50}, 60.0, arrivals=[(5, [2], [1, 2])]),
         point(8, {0: 70, 1: 90, 2: 80}, 80.0)]


def test_area_under_the_curve_is_the_mean_seen_class_accuracy():
    assert anytime.auc(CURVE) == (85 + 100 + 60 + 80) / 4  # 81.25


def test_stability_gap_and_recovery_by_hand():
    # arrival at step 1: no earlier class, left out. Arrival at step 5: earlier = {0, 1} - {1, 2} = {0};
    # before (step 4): 100; after (steps 6, 8): 40, 70 -> low 40, gap 60, recovery 70 - 40 = 30
    assert anytime.stability_gaps(CURVE) == [{'step': 5, 'earlier': [0], 'before': 100.0, 'low': 40.0, 'last': 70.0,
                                             'gap': 60.0, 'recovery': 30.0}]


def test_forgetting_is_best_since_arrival_minus_final():
    # class 0: best 100, final 70; class 1: best 100, final 90; class 2 (from step 5: 50, 80): best 80, final 80
    assert anytime.forgetting(CURVE) == {0: 30.0, 1: 10.0, 2: 0.0}


def test_learning_is_the_new_classes_accuracy_at_the_end_of_their_segment():
    # arrival at step 1 (classes 0, 1): last point before step 5 is step 4: (10 + 10) / 20 right; arrival at step 5
    # (class 2): last point is step 8: 80
    assert anytime.learning(CURVE) == [{'step': 1, 'new': [0, 1], 'accuracy': 100.0},
                                       {'step': 5, 'new': [2], 'accuracy': 80.0}]


def test_run_metrics():
    assert anytime.run_metrics(CURVE) == {'auc': 81.25, 'gap': 60.0, 'recovery': 30.0, 'learning': 90.0,
                                          'forgetting': 40.0 / 3}


def test_group_accuracy_weighs_classes_by_their_images():
    p = point(1, {0: 50.0, 1: 100.0}, None)
    p['class_total'] = {'0': 10, '1': 30}
    assert anytime.group_accuracy(p, [0, 1]) == 100.0 * (5 + 30) / 40
    assert anytime.group_accuracy(p, [7]) is None


def test_an_arrival_without_a_point_before_or_after_is_left_out():
    curve = [point(3, {0: 90, 1: 10}, 90.0, arrivals=[(1, [0], [0]), (2, [1], [1])])]  # both before the only point
    assert anytime.stability_gaps(curve) == []
    assert anytime.run_metrics(curve)['gap'] is None


def record(method, seed, aucs):
    return {'status': 'ok', 'dataset': 'mnist-360', 'method': method, 'buffer': 500, 'seed': seed,
            'anytime': [point(i + 1, {0: a}, a) for i, a in enumerate(aucs)]}


def test_cells_and_the_paired_difference_against_dynamos():
    records = [record('dynamos', 0, [70, 90]), record('dynamos', 1, [70, 70]),  # auc 80, 70
               record('msa', 0, [90, 90]), record('msa', 1, [80, 88]),  # auc 90, 84
               {'status': 'ok', 'dataset': 'mnist-360', 'method': 'msa', 'buffer': 500, 'seed': 2}]  # no curve
    cells = anytime.metric_cells(records)
    dyn = cells['mnist-360', 'dynamos', 500]['auc']
    assert dyn['mean'] == 75.0 and dyn['n'] == 2 and dyn['by_seed'] == {0: 80.0, 1: 70.0}
    t = 12.706204736  # t(0.975, 1 degree of freedom)
    assert dyn['ci'] == pytest.approx((75 - t * 5, 75 + t * 5))  # std 7.071, se 5
    assert cells['mnist-360', 'msa', 500]['auc']['seeds'] == [0, 1]
    (c,) = [c for c in anytime.paired_against_dynamos(cells) if c['metric'] == 'auc']
    # differences -10, -14: mean -12, std 2.828, se 2, t = -6 with 1 degree of freedom
    assert c['method'] == 'msa' and c['mean'] == -12.0 and c['n'] == 2
    assert c['ci'] == pytest.approx((-12 - 2 * t, -12 + 2 * t))
    assert c['verdict'] == 'no detectable difference at 2 seeds' and c['p_holm'] == c['p']  # a family of one
    page = anytime.markdown(records)
    assert '| mnist-360 | msa | 500 | 87.00 [' in page and '| mnist-360 | 500 | msa | auc | -12.00 |' in page
    assert anytime.markdown([record('dynamos', 0, [1])][:0]) == ''


def test_holm_correction_within_a_dataset_and_metric():
    # Dynamos minus msa: -10, -10.5, -9.5 (t = -34.6); minus static: -10, -12, -8 (t = -8.7): Holm multiplies the
    # smaller p by 2 and the larger by 1, then keeps them ordered
    records = [record('dynamos', s, [70]) for s in range(3)]
    records += [record('msa', s, [80 + d]) for s, d in enumerate((0, 0.5, -0.5))]
    records += [record('static', s, [80 + d]) for s, d in enumerate((0, 2, -2))]
    comparisons = {c['method']: c for c in anytime.paired_against_dynamos(anytime.metric_cells(records))}
    msa, static = comparisons['msa'], comparisons['static']
    assert msa['p'] < static['p'] < 0.05
    assert msa['p_holm'] == pytest.approx(2 * msa['p']) and static['p_holm'] == pytest.approx(static['p'])
    assert msa['verdict'] == static['verdict'] == 'Dynamos lower'
