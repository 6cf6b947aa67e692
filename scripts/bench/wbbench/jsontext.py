"""JSON as the mount serves it, computed independently of wandbfs.

The mount pretty-prints each file with two-space indents, one key per line,
keys in the server's order, strings escaped as Python's
json.dumps(ensure_ascii=False) escapes them, every number with the exact
text the server sent (big integers, NaN, Infinity and -Infinity included)
and a trailing newline. Parsing with the numbers kept as text lets the
baselines render the same bytes without rounding any float."""
import json

from harness import unwrap


class Num(str):
    """A JSON number (or NaN/Infinity/-Infinity) kept as its text."""


def loads(text):
    """Parse JSON text, numbers as Num; empty or blank text is None."""
    if text is None or not text.strip():
        return None
    return json.loads(text, parse_int=Num, parse_float=Num, parse_constant=Num)


def _pretty(value, depth):
    if isinstance(value, Num):
        return str(value)
    if isinstance(value, (dict, list)):
        if not value:
            return '{}' if isinstance(value, dict) else '[]'
        pad = '  ' * (depth + 1)
        if isinstance(value, dict):
            items = [pad + json.dumps(k, ensure_ascii=False) + ': ' + _pretty(v, depth + 1)
                     for k, v in value.items()]
            ends = '{}'
        else:
            items = [pad + _pretty(v, depth + 1) for v in value]
            ends = '[]'
        return ends[0] + '\n' + ',\n'.join(items) + '\n' + '  ' * depth + ends[1]
    return json.dumps(value, ensure_ascii=False)


def render(value):
    """The bytes of a file holding value (a loads() result)."""
    return (_pretty(value, 0) + '\n').encode('utf-8')


def summary_file(text):
    """summary.json of a run whose summaryMetrics is text (no text: {})."""
    value = loads(text)
    return render({} if value is None and not (text or '').strip() else value)


def config_file(text):
    """config.json of a run whose config (wrapped) is text: wandb.Api's
    run.config, i.e. each {"value": v} unwrapped to v, _wandb and
    wandb_version left out."""
    return render(unwrap(loads(text)))
