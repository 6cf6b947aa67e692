"""Request economy and concurrency on a generated 2,000-run project:
`grep -l` across every config.json costs a few dozen requests (listing pages
plus one request per group of 50 runs), not one per run; a warm grep costs none; many
threads reading different runs at once get exact bytes, and no run is
fetched twice (single-flight)."""
import json
import math
import os
import subprocess
import threading
import time
from collections import Counter

import pytest

from fsutil import data_dir, graphql_count, truth_runs
from harness import Mount, Server, same, unwrap

ENT, PROJ, N = 'bench', 'grep2k', 2000
PATTERN = '"optimizer": "adam"'
LISTING_PAGE = 1000   # light runs per listing request (client/runs.c)
GROUP = 50            # runs per request with heavy fields (client/runs.c)


@pytest.fixture(scope='module')
def srv(tmp_path_factory):
    d = data_dir(tmp_path_factory, 'fs-scale', {
        'generate': [{'kind': 'runs', 'entity': ENT, 'project': PROJ, 'count': N, 'seed': 7,
                      'runningFraction': 0.1}]})
    with Server(d) as s:
        yield s


@pytest.fixture(scope='module')
def truth(srv):
    return truth_runs(srv, ENT, PROJ)


def fetched_names(server, since):
    """Run names asked for by each heavy (by-name) Runs request after the
    first `since` log entries."""
    out = []
    for e in server.requests('graphql')[since:]:
        v = e.get('variables') or {}
        if e.get('op') == 'Runs' and v.get('withConfig') and v.get('filters'):
            out.append(json.loads(v['filters'])['name']['$in'])
    return out


def test_grep_across_2000_configs(srv, truth):
    assert len(truth) == N
    want = sorted('%s/config.json' % name for name, t in truth.items()
                  if PATTERN in json.dumps(unwrap(t['config']), indent=2, ensure_ascii=False))
    assert 0 < len(want) < N
    # Running runs get a lifetime long enough that the warm pass stays warm.
    with Mount(srv, args=['--cache-ttl-running=600']) as m:
        runs = m.path(ENT, PROJ, 'runs')
        before = len(srv.requests('graphql'))
        t0 = time.time()
        out = subprocess.run("grep -lF '%s' */config.json" % PATTERN, shell=True, cwd=runs,
                             capture_output=True, text=True)
        cold = time.time() - t0
        assert out.returncode == 0, out.stderr
        assert sorted(out.stdout.split()) == want
        requests = srv.requests('graphql')[before:]
        ops = Counter(e['op'] for e in requests)
        batches = fetched_names(srv, before)
        # Each run's heavy fields were fetched exactly once.
        names = [n for b in batches for n in b]
        assert sorted(names) == sorted(truth)
        # Listing pages + project + one request per group of runs (only
        # config, the field the file shows): a few dozen, where an N+1
        # implementation (the SDK's lazy runs) would make N + 1.
        assert ops['Runs'] - len(batches) == math.ceil(N / LISTING_PAGE)
        assert len(batches) == N // GROUP
        assert len(requests) <= 100, ops
        t0 = time.time()
        again = subprocess.run("grep -lF '%s' */config.json" % PATTERN, shell=True, cwd=runs,
                               capture_output=True, text=True)
        warm = time.time() - t0
        assert sorted(again.stdout.split()) == want
        assert len(srv.requests('graphql')) == before + len(requests)
        print('\ngrep -l over %d configs: cold %.2fs with %d requests (%s), warm %.2fs, 0 requests'
              % (N, cold, len(requests), dict(ops), warm))


def test_ls_l_costs_listing_only(srv):
    with Mount(srv) as m:
        before = graphql_count(srv)
        out = subprocess.run(['ls', '-l', m.path(ENT, PROJ, 'runs')], capture_output=True,
                             text=True, check=True)
        assert len(out.stdout.splitlines()) == N + 1
        ops = Counter(e['op'] for e in srv.requests('graphql')[before:])
        assert ops == {'Project': 1, 'Runs': math.ceil(N / LISTING_PAGE)}, ops
        # metadata.json comes from the listing: no request for any of them.
        before = graphql_count(srv)
        sizes = [os.stat(m.path(ENT, PROJ, 'runs', name, 'metadata.json')).st_size
                 for name in sorted(os.listdir(m.path(ENT, PROJ, 'runs')))[:200]]
        assert all(sizes) and graphql_count(srv) == before


def test_concurrent_readers_get_exact_bytes(srv, truth):
    names = sorted(truth)[:400]
    threads_n = 8
    results, errors = {}, []

    def reader(mount, mine):
        try:
            for name in mine:
                for f in ('config.json', 'summary.json'):
                    p = mount.path(ENT, PROJ, 'runs', name, f)
                    with open(p, 'rb') as fh:
                        data = fh.read()
                    results[(name, f)] = (os.stat(p).st_size, data)
        except Exception as e:  # reported below, with the thread's file
            errors.append(repr(e))

    with Mount(srv) as m:
        before = len(srv.requests('graphql'))
        # Interleaved slices: the threads hit the same groups at once.
        threads = [threading.Thread(target=reader, args=(m, names[i::threads_n]))
                   for i in range(threads_n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors[:3]
        assert len(results) == 2 * len(names)
        fetched = [n for b in fetched_names(srv, before) for n in b]
        dup = [n for n, c in Counter(fetched).items() if c > 1]
        assert not dup, dup[:5]
    for (name, f), (size, data) in results.items():
        assert size == len(data), (name, f)
        value = json.loads(data)
        want = unwrap(truth[name]['config']) if f == 'config.json' else truth[name]['summary']
        assert same(value, want), (name, f)
    # The same bytes through the unbatched path (one run per request).
    with Mount(srv, args=['--prefetch-runs=1']) as m:
        for name in names[:40]:
            for f in ('config.json', 'summary.json'):
                with open(m.path(ENT, PROJ, 'runs', name, f), 'rb') as fh:
                    assert fh.read() == results[(name, f)][1], (name, f)


def test_same_cold_file_many_threads_one_fetch(srv, truth):
    name = sorted(truth)[-1]
    with Mount(srv, args=['--prefetch-runs=1']) as m:
        path = m.path(ENT, PROJ, 'runs', name, 'summary.json')
        before = len(srv.requests('graphql'))
        out = []
        threads = [threading.Thread(target=lambda: out.append(open(path, 'rb').read()))
                   for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert len(out) == 8 and len(set(out)) == 1
        assert fetched_names(srv, before) == [[name]]


def test_tiny_memory_bound_still_exact(srv, truth):
    """With a cache far smaller than the project, entries are evicted while
    in use (listing, records of the group): reads stay exact, only cost
    more."""
    names = sorted(truth)[:150]
    with Mount(srv, args=['--cache-max-bytes=64K']) as m:
        runs = m.path(ENT, PROJ, 'runs')
        assert len(os.listdir(runs)) == N
        for name in names:
            p = os.path.join(runs, name, 'config.json')
            with open(p, 'rb') as fh:
                data = fh.read()
            assert os.stat(p).st_size == len(data)
            assert same(json.loads(data), unwrap(truth[name]['config'])), name
