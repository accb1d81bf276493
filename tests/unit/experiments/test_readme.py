"""README.md's generated blocks (dynamos_plugin/experiments/readme.py): each is what the generator writes from the
committed results, so no number the README quotes from them can go stale; and the README names no number of the
results outside them that a test does not check."""

import pytest

from dynamos_plugin.experiments import readme
from dynamos_plugin.glue.paths import REPO

from .test_report import synthetic_record


def test_the_readme_blocks_are_what_the_generator_writes():
    text = (REPO / 'README.md').read_text()
    generated = readme.blocks(REPO / 'results')
    assert sorted(readme.block_names(text)) == sorted(generated), 'every block once, and no other'
    stale = [name for name in generated if f'<!-- generated:{name} -->\n{generated[name]}\n<!-- /generated:{name} -->'
             not in text]
    assert not stale, f'README.md blocks differ from the committed results: {stale}; run ./run_experiments.sh --report'


def test_render_replaces_only_the_blocks():
    text = 'a 1\n<!-- generated:x -->\nold 2\n<!-- /generated:x -->\nb 3\n'
    assert readme.render(text, {'x': 'new 4', 'y': 'unused'}) == \
        'a 1\n<!-- generated:x -->\nnew 4\n<!-- /generated:x -->\nb 3\n'
    assert readme.render(readme.render(text, {'x': 'new'}), {'x': 'new'}) == readme.render(text, {'x': 'new'})
    with pytest.raises(KeyError, match='"x"'):
        readme.render(text, {})


def test_the_quick_start_block_quotes_the_records(tmp_path):
    results = tmp_path / 'results'
    for seed, (acc, wall) in enumerate([(92.0, 480.0), (96.0, 460.0), (97.0, 470.0)]):
        synthetic_record(results, 'seq-mnist', 'dynamos', 500, seed, acc, wall_s=wall, task_il=99.0 + seed / 10)
    block = readme.quick_start(readme.Results(results))
    assert '[Class-IL]: ~95 % [Task-IL]: ~99.1 %' in block  # mean 95.00
    assert 'ended at Class-IL 92.00 / 96.00 / 97.00 % (mean 95.00 ± 2.65' in block
    assert 'they took 480 / 460 / 470 s (7.7 to 8.0 min' in block
