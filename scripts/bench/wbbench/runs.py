"""The run rows: grep -l over every run's config.json, cat of every run's
summary.json, ls -l of a runs directory, and the warm grep against the same
grep over a local copy of the files.

Each row reads its own generated project, so every cold number starts from
an empty cache. wandbfs must give the baselines' answer: the same matching
runs (and at least one), the same summary bytes, the same run names;
otherwise the suite fails."""
import math
import os
import shlex
import shutil
import tempfile

from . import Disagreement, jsontext, sdk
from .table import Measure, Row

ENTITY = 'bench'
PATTERN = '"optimizer": "adam"'
GREP = 'grep -lF -- %s */config.json' % shlex.quote(PATTERN)
CAT = 'cat */summary.json'
LS = 'ls -l'
WARM_REPEAT = 3    # warm numbers are the median of this many runs
FLOOR_REPEAT = 5   # one page's time is the median of this many sends
PAGE_CAP = 1000    # the test server's largest page (its --page-cap default)


def _hits(out):
    """Run names in grep -l output (lines RUN/config.json)."""
    return sorted(line.rsplit('/', 1)[0] for line in out.decode().splitlines())


def _ls_names(out):
    """Run names in ls -l output; every entry must be a directory."""
    names = []
    for line in out.decode().splitlines()[1:]:  # after "total N"
        fields = line.split(None, 8)
        if len(fields) < 9 or not line.startswith('d'):
            raise Disagreement('ls -l printed an entry that is not a run directory: %r' % line)
        names.append(fields[8])
    return names


def _glob_order(names, file):
    """names in the order the shell expands */file (LC_ALL=C: by bytes)."""
    return sorted(names, key=lambda n: (n + '/' + file).encode())


def _matching(nodes):
    """The baseline's answer to the grep: runs whose config.json (rendered
    as the mount renders it) holds the pattern (grep -F matches a line; the
    pattern has no newline)."""
    return sorted(n['name'] for n in nodes if PATTERN.encode() in jsontext.config_file(n['config']))


def _summaries(nodes):
    return {n['name']: jsontext.summary_file(n['summaryMetrics']) for n in nodes}


class RunRows:
    name = 'runs'

    def __init__(self, grep_runs, cat_runs, ls_runs, lazy_max):
        self.count = {'grep': grep_runs, 'cat': cat_runs, 'ls': ls_runs}
        self.project = {k: '%s%d' % (k, n) for k, n in self.count.items()}
        self.lazy_max = lazy_max
        self.notes = []

    def generate(self):
        return [{'kind': 'runs', 'entity': ENTITY, 'project': self.project[k], 'count': n,
                 'seed': 7 + i, 'runningFraction': 0.1, 'files': False}
                for i, (k, n) in enumerate(sorted(self.count.items()))]

    def mount_args(self):
        # Warm means within the cache lifetimes. By default a running run's
        # files live 5 s and a listing 60 s: shorter than the warm
        # repetitions after a cold read of 10,000 runs on a loaded machine.
        return ['--cache-ttl=600', '--cache-ttl-running=600']

    # ---- wandbfs ------------------------------------------------------------

    def on_mount(self, bench, mount):
        runs = {k: mount.path(ENTITY, p, 'runs') for k, p in self.project.items()}
        self._grep(bench, runs['grep'])
        self._cat(bench, runs['cat'])
        self._ls(bench, runs['ls'])

    def _grep(self, bench, runs_dir):
        grep = lambda d: bench.sh(GREP, d, ok=(0, 1))
        self.grep_cold, out = bench.phase(lambda: grep(runs_dir))
        self.grep_hits = _hits(out)
        self.grep_warm, out = bench.repeat(WARM_REPEAT, lambda: grep(runs_dir))
        if _hits(out) != self.grep_hits:
            raise Disagreement('warm grep matched other runs than cold grep')
        local = tempfile.mkdtemp(prefix='wbbench-local-')
        try:
            for name in os.listdir(runs_dir):
                os.mkdir(os.path.join(local, name))
                shutil.copyfile(os.path.join(runs_dir, name, 'config.json'),
                                os.path.join(local, name, 'config.json'))
            self.grep_local, out = bench.repeat(WARM_REPEAT, lambda: grep(local))
            self.grep_local.label = 'local copy:'
        finally:
            shutil.rmtree(local, ignore_errors=True)
        if _hits(out) != self.grep_hits:
            raise Disagreement('grep over the local copy matched other runs than over the mount')

    def _cat(self, bench, runs_dir):
        self.cat_cold, self.cat_out = bench.phase(lambda: bench.sh(CAT, runs_dir))
        self.cat_warm, out = bench.repeat(WARM_REPEAT, lambda: bench.sh(CAT, runs_dir))
        if out != self.cat_out:
            raise Disagreement('warm cat printed other bytes than cold cat')

    def _ls(self, bench, runs_dir):
        self.ls_cold, out = bench.phase(lambda: bench.sh(LS, runs_dir))
        self.ls_names = _ls_names(out)
        self.ls_warm, out = bench.repeat(WARM_REPEAT, lambda: bench.sh(LS, runs_dir))
        if _ls_names(out) != self.ls_names:
            raise Disagreement('warm ls -l listed other runs than cold ls -l')
        # One listing page: the largest answer the cold ls -l got (a full
        # page, when the listing has several).
        sent = [e for e in self.ls_cold.entries if e.get('kind') == 'graphql']
        if not sent:
            raise Disagreement('a cold ls -l made no GraphQL request')
        self.ls_page = max(sent, key=lambda e: e.get('bytes') or 0)

    # ---- baselines ----------------------------------------------------------

    def baselines(self, bench):
        cold = (('grep', self.grep_cold), ('cat', self.cat_cold), ('ls -l', self.ls_cold))
        self.notes.append('wandbfs cold requests by operation: ' + '; '.join(
            '%s %s' % (row, ', '.join('%s ×%d' % kv for kv in sorted(m.ops().items())))
            for row, m in cold))
        with sdk.GraphQL(bench.server.base_url, bench.server.api_key) as gql:
            grep, warm = self._grep_rows(bench, gql)
            return [grep, self._cat_row(bench, gql), self._ls_row(bench, gql), warm]

    def _lazy(self, bench, gql, key, answer):
        """The lazy pattern over the project's first lazy_max runs,
        extrapolated to all of them: (Measure, answer(run nodes))."""
        n = self.count[key]
        k = min(n, self.lazy_max)
        m, result = bench.phase(lambda: answer(sdk.lazy(gql, ENTITY, self.project[key],
                                                        limit=k if k < n else None)))
        if k < n:
            m = m.scaled(n / k)
            self.notes.append('lazy pattern, %s row: measured on the first %s of %s runs (the SDK '
                              'order), time and requests scaled by %s/%s (≈ marks it)'
                              % (key, _n(k), _n(n), _n(n), _n(k)))
        return m, result

    def _grep_rows(self, bench, gql):
        n, project = self.count['grep'], self.project['grep']
        paged, hits = bench.phase(lambda: _matching(sdk.paged(gql, ENTITY, project)))
        if not hits:
            raise Disagreement('no run matches %s: the grep row would compare nothing' % PATTERN)
        if hits != self.grep_hits:
            raise Disagreement('grep: wandbfs matched %d runs, the paged pattern %d (first '
                               'difference: %s)' % (len(self.grep_hits), len(hits), sorted(
                                   set(hits) ^ set(self.grep_hits))[:3]))
        lazy, (lazy_hits, subset) = self._lazy(
            bench, gql, 'grep', lambda nodes: (_matching(nodes), {x['name'] for x in nodes}))
        if lazy_hits != [h for h in self.grep_hits if h in subset]:
            raise Disagreement('grep: the lazy pattern matched other runs than wandbfs')
        self.notes.append('grep: wandbfs, the paged pattern and the lazy pattern agree on %s '
                          'matching runs of %s' % (_n(len(hits)), _n(n)))
        row = _run_row('grep -l over %s runs\' config.json, cold' % _n(n),
                       self.grep_cold, self.grep_warm, paged, lazy)
        row.target('≤ 1/5 of paged, same runs', self.grep_cold.seconds <= paged.seconds / 5)
        warm = Row('grep -l over %s configs, warm' % _n(n))
        warm.cells.update({'wandbfs warm': self.grep_warm, 'other baseline': self.grep_local})
        r = warm.ratio('warm÷local', self.grep_warm, self.grep_local)
        warm.target('≤ 2× local copy', r <= 2)
        return row, warm

    def _cat_row(self, bench, gql):
        n, project = self.count['cat'], self.project['cat']
        paged, files = bench.phase(lambda: _summaries(sdk.paged(gql, ENTITY, project)))
        order = _glob_order(files, 'summary.json')
        expected = b''.join(files[name] for name in order)
        if self.cat_out != expected:
            self._cat_difference(order, files)
        offsets, at = {}, 0
        for name in order:
            offsets[name] = (at, at + len(files[name]))
            at += len(files[name])
        lazy, lazy_files = self._lazy(bench, gql, 'cat', _summaries)
        for name, text in lazy_files.items():
            lo, hi = offsets[name]
            if self.cat_out[lo:hi] != text:
                raise Disagreement('cat: run %s: the lazy pattern\'s summary differs from '
                                   'what wandbfs printed' % name)
        self.notes.append('cat: wandbfs printed %s bytes, byte for byte the %s summaries of the '
                          'paged pattern rendered as the mount renders them (%s of them also '
                          'checked against the lazy pattern)' % (
                              _n(len(expected)), _n(n), _n(len(lazy_files))))
        row = _run_row('cat %s runs\' summary.json, cold' % _n(n),
                       self.cat_cold, self.cat_warm, paged, lazy)
        row.target('≤ 1/5 of paged, same bytes', self.cat_cold.seconds <= paged.seconds / 5)
        return row

    def _cat_difference(self, order, files):
        at = 0
        for name in order:
            want = files[name]
            got = self.cat_out[at:at + len(want)]
            if got != want:
                raise Disagreement('cat: run %s (byte %d of the output): wandbfs printed %r, '
                                   'expected %r' % (name, at, got[:200], want[:200]))
            at += len(want)
        raise Disagreement('cat: wandbfs printed %d bytes, the runs\' summaries are %d'
                           % (len(self.cat_out), at))

    def _ls_row(self, bench, gql):
        n, project = self.count['ls'], self.project['ls']
        paged, names = bench.phase(lambda: [x['name'] for x in sdk.paged(gql, ENTITY, project)])
        lazy, light = bench.phase(
            lambda: [x['name'] for x in sdk.paged(gql, ENTITY, project, full=False)])
        if sorted(names) != sorted(self.ls_names) or sorted(light) != sorted(names):
            raise Disagreement('ls -l listed %d runs, the paged pattern %d, the lazy listing %d'
                               % (len(self.ls_names), len(names), len(light)))
        page = self.ls_page
        one = gql.timed_send(page['query'], page['variables'], FLOOR_REPEAT)
        pages = math.ceil(n / PAGE_CAP)
        self.notes.append(
            'ls -l: the pagination floor is pages × one page = %d × %.3f s (%s runs, at most %s '
            'a page); one page is the median of %d sends of the largest request wandbfs made (%s, '
            'variables %s, %s bytes). The lazy pattern here is the SDK\'s light listing alone (no '
            'per-run request: ls -l needs no heavy field)' % (
                pages, one, _n(n), _n(PAGE_CAP), FLOOR_REPEAT, page.get('op'),
                _short(page.get('variables')), _n(page.get('bytes') or 0)))
        floor = Measure(pages * one, pages, label='floor:')
        row = _run_row('ls -l of %s runs, cold' % _n(n),
                       self.ls_cold, self.ls_warm, paged, lazy, floor)
        row.target('≤ 1.2× floor', self.ls_cold.seconds <= 1.2 * floor.seconds)
        row.target('requests %d ≤ pages + 2 = %d' % (self.ls_cold.requests, pages + 2),
                   self.ls_cold.requests <= pages + 2)
        return row


def _n(count):
    return '{:,}'.format(count)


def _run_row(title, cold, warm, paged, lazy, floor=None):
    """A row of wandbfs cold and warm against the SDK's two patterns (and
    a floor, when the row has one)."""
    row = Row(title)
    row.cells.update({'wandbfs cold': cold, 'wandbfs warm': warm,
                      'paged pattern': paged, 'lazy pattern': lazy})
    if floor:
        row.cells['other baseline'] = floor
        row.ratio('cold÷floor', cold, floor)
    row.ratio('cold÷paged', cold, paged)
    row.ratio('cold÷lazy', cold, lazy)
    return row


def _short(variables):
    text = repr(variables)
    return text if len(text) <= 160 else text[:157] + '...'
