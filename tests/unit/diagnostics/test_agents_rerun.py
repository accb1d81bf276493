"""The agents study's check re-run (results/studies/mnist360-agents/rerun/): the arm re-run with --model dynamos-variants
gives what its committed --model dynamos record gave (issue 25: the variants moved out of dynamos, nothing else)."""

import json

from dynamos_plugin.glue.paths import REPO
from dynamos_plugin.stats import parse_trace
from dynamos_plugin.variants.drift import parse_drift

STUDY = REPO / 'results' / 'studies' / 'mnist360-agents'


def test_the_straight_through_rerun_equals_its_record():
    old_rec = json.loads((STUDY / 'straight_through/records/mnist-360__dynamos__buf500__seed0.json').read_text())
    new_rec = json.loads((STUDY / 'rerun/straight_through/records/mnist-360__dynamos-variants__buf500__seed0.json')
                         .read_text())
    assert new_rec['method'] == 'dynamos-variants' and not new_rec['dirty']
    assert new_rec['extra_args'] == old_rec['extra_args'] and new_rec['seed'] == old_rec['seed'] == 0
    assert new_rec['accuracy'] == old_rec['accuracy'] == 73.26
    old_log = (STUDY / 'straight_through/logs/mnist-360__dynamos__buf500__seed0.log').read_text()
    new_log = (STUDY / 'rerun/straight_through/logs/mnist-360__dynamos-variants__buf500__seed0.log').read_text()
    assert parse_drift(new_log) == parse_drift(old_log) and len(parse_drift(new_log)[0]) == 32
    old_stats, new_stats = parse_trace(old_log)['tasks'][-1], parse_trace(new_log)['tasks'][-1]
    for key in ('keep', 'keep_thresholded', 'undecided'):  # the old line printed 3 decimals, the new one 4
        assert [round(v, 3) for v in new_stats[key]] == old_stats[key]
    assert '73.26' in (STUDY / 'README.md').read_text()
