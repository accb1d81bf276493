"""Plants, one at a time, the eight one-line wiring bugs of issue 12 in a copy of the tree and runs the fast tests.

    .venv/bin/python benchmarks/wiring_mutants.py [pytest args...]

Each mutant is one or two exact text replacements in a core module; the script checks that each original
text occurs exactly once (so a refactoring that moves it fails loudly here, and
``tests/unit/test_wiring_mutants.py`` fails in the suite), copies the tree (git-tracked files and untracked ones git does not ignore) and
Mammoth's working tree into a temporary folder, plants the mutant there (never in this checkout),
runs the fast tests against the copy and prints which tests failed. A mutant that no test kills is
reported as SURVIVED and makes the exit status 1.
"""

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

# the unit tests of the modules the mutants touch and of those they build on (not all of tests/unit/: a unit test
# failing for another reason would count as a kill)
FAST_TESTS = ['tests/unit/test_dynamos.py', 'tests/unit/test_msa.py', 'tests/unit/test_backbone.py',
              'tests/unit/test_agent.py', 'tests/unit/test_losses.py', 'tests/unit/test_buffer.py']

# (name, [(module, original text, mutated text), ...]): every replacement of a mutant is planted; each original text
# must occur exactly once in its module (tests/unit/test_wiring_mutants.py checks it on every run of the suite)
MUTANTS = [
    ('beta also multiplies the consistency terms of Eq. 7', [
        ('dynamos_plugin/losses.py',
         '+ beta * (t.buf_ce + gamma * t.buf_policy)\n            + alpha * t.consistency_z + policy_alpha * t.consistency_v',
         '+ beta * (t.buf_ce + gamma * t.buf_policy\n            + alpha * t.consistency_z + policy_alpha * t.consistency_v)')]),
    ("gamma on the buffer's policy loss outside beta", [
        ('dynamos_plugin/losses.py', 'beta * (t.buf_ce + gamma * t.buf_policy)', '(beta * t.buf_ce + gamma * t.buf_policy)')]),
    ("the buffer's prototype term dropped", [
        ('dynamos_plugin/losses.py', 'prototype_weight * (t.prototype + t.buf_prototype)', 'prototype_weight * t.prototype')]),
    ('lambda on the correct samples instead of the wrong ones', [
        ('dynamos_plugin/dynamos.py', 'keep_ratio_reward(actions, correct,', 'keep_ratio_reward(actions, ~correct,')]),
    ('the warm-up forward pass uses the agents', [
        ('dynamos_plugin/dynamos.py', 'self.loss(self.net(inputs, use_agents=False), labels)', 'self.loss(self.net(inputs), labels)')]),
    ('the buffer stores the augmented inputs', [
        ('dynamos_plugin/dynamos.py', 'self.buffer.add_data(examples=not_aug_inputs,', 'self.buffer.add_data(examples=inputs,')]),
    ("agent 1's mask applied before bn1", [
        ('dynamos_plugin/backbone.py', 'out = self.bn1(self.conv1(x))\n', 'out = self.conv1(x)\n'),
        ('dynamos_plugin/backbone.py', '        h = F.relu(out)\n', '        h = F.relu(self.bn1(out))\n')]),
    ('agent 2 reads the block input instead of h', [
        ('dynamos_plugin/backbone.py', 'self.agent2(h, sample, threshold, straight_through)',
         'self.agent2(x, sample, threshold, straight_through)')]),
]


def unplantable(root: Path) -> List[str]:
    """The replacements that cannot be planted in the tree at ``root``: each original text must occur exactly once in
    its module (after the mutant's earlier replacements). Empty when every mutant can be planted."""
    problems = []
    for name, replacements in MUTANTS:
        texts = {}
        for module, old, new in replacements:
            text = texts.setdefault(module, (root / module).read_text())
            if text.count(old) != 1:
                problems.append(f'{name}: {module} holds {old!r} {text.count(old)} times, not once; update MUTANTS')
            texts[module] = text.replace(old, new)
    return problems


def plant(root: Path, replacements) -> Dict[Path, str]:
    """Plants one mutant's replacements in the tree at ``root``; returns the original text of each file changed."""
    originals = {}
    for module, old, new in replacements:
        path = root / module
        originals.setdefault(path, path.read_text())
        path.write_text(path.read_text().replace(old, new, 1))
    return originals


def main(pytest_args) -> int:
    from mutation import copy_tree  # benchmarks/mutation.py: the same copy of the tree (a git repository of one commit)
    problems = unplantable(Path(__file__).resolve().parents[1])
    if problems:
        raise SystemExit('\n'.join(problems))
    survived = 0
    with tempfile.TemporaryDirectory(prefix='wiring-mutants-') as tmp:
        tmp = Path(tmp)
        copy_tree(tmp)
        env = dict(os.environ, PYTHONPATH=str(tmp), OMP_NUM_THREADS='1', PYTHONDONTWRITEBYTECODE='1')
        for name, replacements in MUTANTS:
            originals = plant(tmp, replacements)
            proc = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-W', 'ignore',
                                   *FAST_TESTS, *pytest_args], cwd=tmp, env=env, capture_output=True, text=True)
            for path, text in originals.items():
                path.write_text(text)
            if proc.returncode not in (0, 1):  # 0: all passed, 1: some failed; anything else: the run broke
                raise SystemExit(f'pytest could not run the tests ({proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}')
            failed = sorted(set(re.findall(r'^FAILED (\S+?)(?: - |$)', proc.stdout, re.M)))
            survived += not failed
            print(f'{"KILLED  " if failed else "SURVIVED"} {name}')
            for test in failed:
                print(f'           {test}')
    print(f'{len(MUTANTS) - survived} of {len(MUTANTS)} wiring mutants killed by the fast tests')
    return 1 if survived else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
