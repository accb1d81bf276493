"""The panels of the stream plot (dynamos_plugin/experiments/anytime_plots.py): which methods share a panel."""

from dynamos_plugin.experiments.anytime_plots import panels


def test_dynamos_is_drawn_against_its_sparse_references_and_against_the_rehearsal_baselines():
    assert panels(['derpp', 'dynamos', 'er', 'msa', 'static', 'der']) == [['dynamos', 'msa', 'static'],
                                                                         ['dynamos', 'er', 'der', 'derpp']]


def test_a_panel_with_only_dynamos_is_left_out():
    assert panels(['dynamos', 'msa']) == [['dynamos', 'msa']]
    assert panels(['er', 'dynamos']) == [['dynamos', 'er']]
    assert panels(['dynamos']) == [['dynamos']]


def test_a_method_of_no_panel_joins_the_last_one_and_sgd_alone_has_its_own():
    assert panels(['dynamos', 'msa', 'er', 'xyz']) == [['dynamos', 'msa'], ['dynamos', 'er', 'xyz']]
    assert panels(['sgd']) == [['sgd']]
