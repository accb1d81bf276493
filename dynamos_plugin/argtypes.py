"""
Command-line validators for Dynamos' hyperparameters.

Each one is an argparse ``type``: it converts the string and raises
:class:`argparse.ArgumentTypeError` with a message that says what the value must be, so
``mammoth/main.py`` stops at parse time with ``argument --flag: <message>``.
"""

import argparse
import math


def _number(value, kind=float):
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f'{value!r} is not a valid {kind.__name__}')
    if isinstance(number, float) and not math.isfinite(number):
        raise argparse.ArgumentTypeError(f'{value!r} is not a finite number')
    return number


def positive_float(value) -> float:
    """A float > 0 (e.g. the temperature of the probability layer)."""
    number = _number(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f'must be > 0, got {number:g}')
    return number


def non_negative_float(value) -> float:
    """A float >= 0 (a loss weight)."""
    number = _number(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f'a loss weight must be >= 0, got {number:g}')
    return number


def keep_ratio(value) -> float:
    """The keep ratio kr of Eq. 3: the target fraction of channels an agent keeps, in (0, 1]."""
    number = _number(value)
    if not 0 < number <= 1:
        raise argparse.ArgumentTypeError(f'the keep ratio must be in (0, 1], got {number:g}')
    return number


def probability_threshold(value) -> float:
    """The inference threshold on the action probabilities, in (0, 1)."""
    number = _number(value)
    if not 0 < number < 1:
        raise argparse.ArgumentTypeError(f'the threshold must be in (0, 1), got {number:g}')
    return number


def policy_penalty(value) -> float:
    """lambda of Eq. 3, the factor on the squared keep-ratio error of a misclassified sample: > 0."""
    number = _number(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(
            f'lambda must be > 0 (Table 5 uses 500 or 200), got {number:g}. The authors\' code took it '
            'negated (--policy-penalty -500) and flipped its sign inside; here give the positive value.')
    return number


def binary(value) -> bool:
    """An on/off switch: ``1``/``0`` (also ``true``/``false``, ``yes``/``no``), as Mammoth's own 0/1 flags."""
    text = str(value).strip().lower()
    if text in ('1', 'true', 'yes'):
        return True
    if text in ('0', 'false', 'no'):
        return False
    raise argparse.ArgumentTypeError(f'must be 0 or 1, got {value!r}')


def positive_int(value) -> int:
    """An int > 0 (e.g. a buffer size: Dynamos is a rehearsal method and needs a buffer)."""
    number = _number(value, int)
    if number <= 0:
        raise argparse.ArgumentTypeError(f'must be a positive integer, got {number}')
    return number


def non_negative_int(value) -> int:
    """An int >= 0 (e.g. the warm-up length; 0 disables it)."""
    number = _number(value, int)
    if number < 0:
        raise argparse.ArgumentTypeError(f'must be >= 0, got {number}')
    return number
