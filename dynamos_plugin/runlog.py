"""
What a run of the plugin's models logs for a program to read: one JSON object per line, after a fixed prefix.

    dynamos-log {"kind": "stats", "task": 1, "steps": 1200, ...}

:func:`format_line` writes such a line (the models log it with ``logging.info``) and :func:`read` reads
every line of one kind back from a log's text; the statistics of :mod:`dynamos_plugin.stats` (kind
``stats``) and the probes of :mod:`dynamos_plugin.variants` (``mask_drift``, ``class_accuracy``) go through
both. Logs written before this format still read: :func:`read` also parses their prose statistics line
(``Dynamos task 1: mean keep ratio per agent [...] ...``) and their ``Mask drift: {...}`` and
``Per-class accuracy: {...}`` lines into the same dictionaries.

Mammoth's evaluation along the stream (``--eval_every``, patch 0030: ``mammoth/utils/anytime_eval.py``, which cannot
import the plugin) writes the same format itself, kind ``anytime``.
"""

import json
import re
from typing import Dict, List

PREFIX = 'dynamos-log '
KINDS = ('stats', 'mask_drift', 'class_accuracy', 'anytime')  # anytime: Mammoth's --eval_every (patch 0030)


def format_line(kind: str, payload: dict) -> str:
    """The log line of one ``kind`` of record (one of :data:`KINDS`) holding ``payload`` (JSON-serialisable)."""
    if kind not in KINDS:
        raise ValueError(f'unknown kind of log line {kind!r}: one of {KINDS}')
    return PREFIX + json.dumps({'kind': kind, **payload})


_LINE_RE = re.compile(re.escape(PREFIX) + r'(\{.*\})')


def read(text: str, kind: str) -> List[dict]:
    """Every record of ``kind`` in a log's ``text``, in order, without the ``kind`` key (older formats included)."""
    if kind not in KINDS:
        raise ValueError(f'unknown kind of log line {kind!r}: one of {KINDS}')
    found = []  # (position in the text, record): the current and the legacy lines, in the order they were logged
    for match in _LINE_RE.finditer(text):
        record = json.loads(match.group(1))
        if record.pop('kind', None) == kind:
            found.append((match.start(), record))
    found.extend(_LEGACY[kind](text) if kind in _LEGACY else ())
    return [record for _, record in sorted(found, key=lambda item: item[0])]


# ---- logs written before this format (committed study logs) ---------------------------------------------

_AGENT_STATS = ('keep', 'keep_thresholded', 'undecided')
_LEGACY_STATS_RE = re.compile(
    r'Dynamos task (?P<task>\d+)(?:, steps up to (?P<last_step>\d+))?: '
    r'mean keep ratio per agent \[(?P<keep>[-\d.e ]+)\] over (?P<steps>\d+) steps; '
    r'thresholded \[(?P<keep_thresholded>[-\d.e ]+)\]; undecided p \[(?P<undecided>[-\d.e ]+)\]; '
    r'train accuracy (?P<train_accuracy>[-\d.e]+|nan); mean losses: (?P<losses>[^;]*); '
    r'buffer (?P<buffer>\d+)/(?P<buffer_size>\d+)')


def _legacy_stats(text: str):
    for match in _LEGACY_STATS_RE.finditer(text):
        record = {'task': int(match['task']), 'steps': int(match['steps']),
                  **{k: list(map(float, match[k].split())) for k in _AGENT_STATS},
                  'train_accuracy': float(match['train_accuracy']),
                  'losses': {k: float(v) for k, v in (term.split('=') for term in match['losses'].split())},
                  'buffer': int(match['buffer']), 'buffer_size': int(match['buffer_size'])}
        if match['last_step'] is not None:
            record['last_step'] = int(match['last_step'])
        yield match.start(), record


def _legacy_json(prefix: str, convert):
    def parse(text: str):
        for match in re.finditer(re.escape(prefix) + r'(\{.*\})', text):
            yield match.start(), convert(json.loads(match.group(1)))
    return parse


_LEGACY: Dict[str, object] = {
    'stats': _legacy_stats,
    'mask_drift': _legacy_json('Mask drift: ', lambda snapshot: snapshot),
    'class_accuracy': _legacy_json('Per-class accuracy: ', lambda accuracy: {'accuracy': accuracy}),
}
