"""Measures, rows and the printed table (Markdown, so doc/benchmarks.md can
hold it as printed).

A row has a cell per column it measures (a Measure, or plain text), the
ratios ours/baseline from the same run, and the issue's targets, each
checked against this run's numbers. Targets are reported, not enforced."""
import collections

COLUMNS = ('wandbfs cold', 'wandbfs warm', 'paged pattern', 'lazy pattern', 'other baseline')


class Measure:
    """Seconds and API requests of one phase (entries: the phase's request
    log entries, when measured from the log). scale > 1 marks values
    extrapolated linearly from 1/scale of the work."""

    def __init__(self, seconds, requests, label=None, scale=1.0, entries=()):
        self.seconds = seconds
        self.requests = requests
        self.label = label
        self.scale = scale
        self.entries = entries

    def ops(self):
        """{operation: requests} of the phase."""
        return collections.Counter(e.get('op') or e.get('kind') for e in self.entries)

    def scaled(self, factor):
        """This measure of 1/factor of the work, extrapolated to all of it."""
        return Measure(self.seconds * factor, self.requests * factor, self.label,
                       self.scale * factor, self.entries)

    def text(self):
        approx = '≈' if self.scale != 1 else ''
        s = '%s%s s · %s%s req' % (approx, fmt_seconds(self.seconds), approx,
                                   '{:,}'.format(round(self.requests)))
        return (self.label + ' ' + s) if self.label else s


def fmt_seconds(s):
    if s >= 100:
        return '%.0f' % s
    if s >= 10:
        return '%.1f' % s
    return '%.2f' % s if s >= 0.1 else '%.3f' % s


class Row:
    def __init__(self, name):
        self.name = name
        self.cells = {}
        self.ratios = []      # (text, value)
        self.targets = []     # (text, met)

    def ratio(self, label, ours, base):
        value = ours.seconds / base.seconds if base.seconds > 0 else float('inf')
        approx = '≈' if base.scale != 1 or ours.scale != 1 else ''
        self.ratios.append(('%s %s%.3g' % (label, approx, value), value))
        return value

    def target(self, text, met):
        self.targets.append((text, met))


def _cell(v):
    if v is None:
        return '—'
    return v.text() if isinstance(v, Measure) else str(v)


def markdown(rows):
    """The table as Markdown lines, columns padded for a terminal."""
    head = ['row'] + list(COLUMNS) + ['ours ÷ baseline', 'target']
    body = []
    for r in rows:
        targets = '; '.join('%s: %s' % (t, 'met' if ok else '**missed**') for t, ok in r.targets)
        cells = [r.name] + [_cell(r.cells.get(c)) for c in COLUMNS] + \
            [' · '.join(t for t, _ in r.ratios) or '—', targets or '—']
        body.append([c.replace('|', '\\|') for c in cells])  # a pipe in a cell ends it
    widths = [max(len(line[i]) for line in [head] + body) for i in range(len(head))]
    fmt = lambda cells: '| ' + ' | '.join(c.ljust(w) for c, w in zip(cells, widths)) + ' |'
    return [fmt(head), '|' + '|'.join('-' * (w + 2) for w in widths) + '|'] + [fmt(b) for b in body]
