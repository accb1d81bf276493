"""benchmarks/wiring_mutants.py cannot rot: each of its eight mutants can be planted in the tree as it is (every replaced
text occurs exactly once in its module), and planting changes the module. Reads files only."""

import importlib.util

from dynamos_plugin.glue.paths import REPO


def load_wiring_mutants():
    spec = importlib.util.spec_from_file_location('wiring_mutants', REPO / 'benchmarks' / 'wiring_mutants.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_wiring_mutant_can_be_planted_in_the_current_code():
    wiring = load_wiring_mutants()
    assert len(wiring.MUTANTS) == 8
    assert wiring.unplantable(REPO) == []


def test_a_moved_text_is_reported(tmp_path):
    wiring = load_wiring_mutants()
    for module in {module for _, replacements in wiring.MUTANTS for module, _, _ in replacements}:
        (tmp_path / module).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / module).write_text((REPO / module).read_text())
    losses = tmp_path / 'dynamos_plugin/losses.py'
    losses.write_text(losses.read_text().replace('prototype_weight * (t.prototype + t.buf_prototype)',
                                                 'prototype_weight * (t.buf_prototype + t.prototype)'))
    problems = wiring.unplantable(tmp_path)
    assert len(problems) == 1 and problems[0].startswith("the buffer's prototype term dropped: dynamos_plugin/losses.py holds")


def test_planting_changes_each_module_and_can_be_undone(tmp_path):
    wiring = load_wiring_mutants()
    for name, replacements in wiring.MUTANTS:
        for module, _, _ in replacements:
            (tmp_path / module).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / module).write_text((REPO / module).read_text())
        originals = wiring.plant(tmp_path, replacements)
        for path, text in originals.items():
            planted = path.read_text()
            assert planted != text, name
            assert all(new in planted for module, _, new in replacements if tmp_path / module == path), name
            path.write_text(text)
        assert all((tmp_path / m).read_text() == (REPO / m).read_text() for m, _, _ in replacements)


def test_the_committed_wiring_run_killed_every_mutant_the_script_plants():
    """results/benchmarks/mutation/wiring-mutants.txt (what the README quotes) names each mutant of MUTANTS, KILLED."""
    wiring = load_wiring_mutants()
    text = (REPO / 'results' / 'benchmarks' / 'mutation' / 'wiring-mutants.txt').read_text()
    assert [line[len('KILLED   '):] for line in text.splitlines() if line.startswith(('KILLED', 'SURVIVED'))] == [
        name for name, _ in wiring.MUTANTS]
    assert '8 of 8 wiring mutants killed by the fast tests' in text
    assert 'all eight are killed' in (REPO / 'README.md').read_text()
