"""Read-ahead and the kernel's share, through real mounts and the server's
request log: a walk over a listing's files has the next groups in flight
before the reader gets there (each request carries one group of 50, only
the field the file shows, each run once), scattered reads fetch only the
group around each run, find/ls -l over every run directory cost a group per
50 runs; files are read without open/release/flush reaching the daemon,
and a running run's changed bytes (same size included) reach a reader once
the short TTL has passed."""
import json
import os
import re
import subprocess
import time

import pytest

from fsutil import admin_update_run, data_dir, pretty, truth_runs
from harness import Mount, Server, same, unwrap

ENT, PROJ, N = 'lab', 'walk', 600
GROUP = 50          # runs per request with heavy fields (client/runs.c)
LISTING_PAGE = 1000  # light runs per listing request


@pytest.fixture(scope='module')
def srv(tmp_path_factory):
    d = data_dir(tmp_path_factory, 'fs-readahead', {
        'generate': [{'kind': 'runs', 'entity': ENT, 'project': PROJ, 'count': N, 'seed': 11,
                      'runningFraction': 0.2}]})
    # Latency makes requests overlap only when they are sent ahead.
    with Server(d, latency_ms=60) as s:
        yield s


@pytest.fixture(scope='module')
def truth(srv):
    return truth_runs(srv, ENT, PROJ)


def heavy_requests(server, since):
    """(names, withConfig, withSummary, t, ms) of each by-name Runs request
    after the first `since` log entries."""
    out = []
    for e in server.requests('graphql')[since:]:
        v = e.get('variables') or {}
        if e.get('op') == 'Runs' and v.get('filters'):
            out.append((json.loads(v['filters'])['name']['$in'], bool(v.get('withConfig')),
                        bool(v.get('withSummary')), e['t'], e['ms']))
    return out


def max_overlap(reqs):
    """Most requests in flight at once, from arrival times and durations."""
    edges = sorted([(t, 1) for _, _, _, t, _ in reqs] +
                   [(t + ms / 1000.0, -1) for _, _, _, t, ms in reqs])
    most = cur = 0
    for _, d in edges:
        cur += d
        most = max(most, cur)
    return most


def test_sequential_cat_reads_ahead(srv, truth):
    with Mount(srv, args=['--cache-ttl-running=600']) as m:
        runs = m.path(ENT, PROJ, 'runs')
        names = sorted(os.listdir(runs))
        assert names == sorted(truth)
        before = len(srv.requests('graphql'))
        out = subprocess.run('cat */summary.json', shell=True, cwd=runs, capture_output=True,
                             check=True).stdout
        assert out == b''.join(pretty(truth[n]['summary']) for n in names)
        reqs = heavy_requests(srv, before)
        # Only summaries, each run once, in groups of one request each.
        assert all(s and not c for _, c, s, _, _ in reqs), reqs
        asked = [n for r in reqs for n in r[0]]
        assert sorted(asked) == names
        assert len(reqs) == N // GROUP
        assert len(srv.requests('graphql')) - before == len(reqs)
        # Groups were in flight together: sent ahead of the reader, who
        # alone would have one request out at a time.
        assert max_overlap(reqs) >= 3


def test_scattered_reads_fetch_their_group(srv, truth):
    with Mount(srv) as m:
        runs = m.path(ENT, PROJ, 'runs')
        names = sorted(os.listdir(runs))
        picks = [310, 20, 470, 150]
        before = len(srv.requests('graphql'))
        for i in picks:
            with open(os.path.join(runs, names[i], 'config.json'), 'rb') as f:
                assert same(json.loads(f.read()), unwrap(truth[names[i]]['config']))
        time.sleep(0.5)  # anything sent ahead would be logged by now
        reqs = heavy_requests(srv, before)
        assert len(reqs) == len(picks), [r[0][:3] for r in reqs]
        for (asked, c, s, _, _), i in zip(reqs, picks):
            block = set(names[i - i % GROUP:i - i % GROUP + GROUP])
            assert asked[0] == names[i] and set(asked) <= block and c and not s


def test_find_and_ls_l_over_run_dirs(srv, truth):
    with Mount(srv, args=['--cache-ttl=600', '--cache-ttl-running=600']) as m:
        runs = m.path(ENT, PROJ, 'runs')
        before = len(srv.requests('graphql'))
        out = subprocess.run(['find', '.', '-name', '*.json', '-printf', '%p %s\n'], cwd=runs,
                             capture_output=True, text=True, check=True).stdout.split('\n')
        sizes = dict(line.split() for line in out if line)
        assert len(sizes) == 3 * N
        reqs = heavy_requests(srv, before)
        # Config and summary of each run exactly once, a few dozen requests.
        assert sorted(n for r in reqs if r[1] for n in r[0]) == sorted(truth)
        assert sorted(n for r in reqs if r[2] for n in r[0]) == sorted(truth)
        assert len(reqs) <= 2 * N // GROUP + 2
        # Sizes find saw are what reading gives.
        for name in sorted(truth)[::97]:
            for f in ('config.json', 'summary.json', 'metadata.json'):
                with open(os.path.join(runs, name, f), 'rb') as fh:
                    assert len(fh.read()) == int(sizes['./%s/%s' % (name, f)])
        # A listing of the same, long form: all from the cache.
        n = len(srv.requests('graphql'))
        ls = subprocess.run('ls -l */', shell=True, cwd=runs, capture_output=True, text=True,
                            check=True).stdout
        assert ls.count('config.json') == N
        assert len(srv.requests('graphql')) == n


def fuse_ops(mount):
    """Counts of each FUSE opcode in the daemon's debug log (-d)."""
    counts = {}
    for op in re.findall(r'opcode: ([A-Z_]+)', mount.stderr()):
        counts[op] = counts.get(op, 0) + 1
    return counts


def test_open_release_flush_stay_in_the_kernel(srv, truth):
    name = sorted(truth)[5]
    with Mount(srv, args=['-d', '--cache-ttl-finished=600', '--cache-ttl-running=600']) as m:
        path = m.path(ENT, PROJ, 'runs', name, 'config.json')
        data = [open(path, 'rb').read() for _ in range(5)]
        assert len(set(data)) == 1
        ops = fuse_ops(m)
        # The first open is answered ENOSYS: the kernel stops sending opens
        # and releases; the first flush likewise. Pages stay cached: one read.
        assert ops.get('OPEN', 0) == 1, ops
        assert ops.get('RELEASE', 0) == 0, ops
        assert ops.get('FLUSH', 0) <= 1, ops
        assert ops.get('READ', 0) == 1, ops


def test_running_run_new_bytes_reach_readers(srv, truth):
    """Open skipped and pages kept across opens: a changed file still
    reads new once the short TTL has passed, whether its size changed or
    not (the mtime the kernel compares changes with the bytes)."""
    running = sorted(n for n, t in truth.items() if t['state'] == 'running')
    r = running[0]
    ttl = 1
    with Mount(srv, args=['--cache-ttl-running=%d' % ttl]) as m:
        p = m.path(ENT, PROJ, 'runs', r, 'summary.json')
        # An open file descriptor across the change, as a tail -f would.
        with open(p, 'rb') as held:
            first = held.read()
            for value in ({'loss': 0.125, 'step': 1}, {'loss': 0.375, 'step': 2},
                          {'loss': 0.5, 'note': 'longer than before', 'step': 3}):
                admin_update_run(srv, ENT, PROJ, r, summaryMetrics=json.dumps(value))
                time.sleep(ttl + 0.3)
                want = pretty(value)
                assert open(p, 'rb').read() == want
                assert os.stat(p).st_size == len(want)
                held.seek(0)
                assert held.read() == want
        assert first != want
