"""The cache policy seen through a real mount and the server's request log:
missing names cost at most one request per negative TTL (also with the
kernel's own dentry cache dropped, so wandbfs itself must remember), a
running run's files refresh after the short TTL with their exact new size
while a finished run's stay cached, and a state change reaches
metadata.json."""
import calendar
import json
import os
import time

import pytest

from fsutil import admin_update_run, data_dir, graphql_count, pretty, truth_runs
from harness import Mount, Server

ENT, PROJ = 'lab', 'live'


@pytest.fixture(scope='module')
def srv(tmp_path_factory):
    d = data_dir(tmp_path_factory, 'fs-cache', {
        'generate': [{'kind': 'runs', 'entity': ENT, 'project': PROJ, 'count': 12, 'seed': 3,
                      'runningFraction': 0.5}]})
    with Server(d) as s:
        yield s


def drop_kernel_dentries():
    """Make the kernel forget cached (negative) dentries, so lookups reach
    wandbfs again. Needs root; without it the test still checks the
    kernel + wandbfs pair."""
    try:
        os.sync()
        with open('/proc/sys/vm/drop_caches', 'w') as f:
            f.write('2\n')
    except OSError:
        pass


def stat_missing(path):
    try:
        os.stat(path)
    except FileNotFoundError:
        return
    raise AssertionError('%s exists' % path)


def request_keys(server):
    return [(e['op'], json.dumps(e['variables'], sort_keys=True))
            for e in server.requests('graphql')]


def test_missing_names_are_cached(srv):
    run = sorted(truth_runs(srv, ENT, PROJ))[0]
    probes = [('.git',), ('autorun.inf',), ('no-such-entity',), (ENT, '.hidden'),
              (ENT, 'no-such-project'), (ENT, PROJ, '.git'), (ENT, PROJ, 'runs', '.Trash'),
              (ENT, PROJ, 'runs', 'nosuchrun'), (ENT, PROJ, 'runs', run, '.hidden'),
              (ENT, PROJ, 'runs', run, 'autorun.inf')]
    with Mount(srv, args=['--negative-ttl=60']) as m:
        first = graphql_count(srv)
        for p in probes:
            stat_missing(m.path(*p))
        after_first = graphql_count(srv)
        # Names that cannot exist cost nothing; the others one request each at most.
        assert after_first - first <= len(probes)
        for _ in range(3):
            drop_kernel_dentries()
            for p in probes:
                stat_missing(m.path(*p))
        assert graphql_count(srv) == after_first
        keys = request_keys(srv)
        repeated = {k for k in keys if keys.count(k) > 1}
        assert not repeated, repeated


def test_negative_entries_expire(srv):
    with Mount(srv, args=['--negative-ttl=1']) as m:
        target = m.path('no-such-entity-2')
        before = graphql_count(srv, 'Entity')
        stat_missing(target)
        stat_missing(target)
        assert graphql_count(srv, 'Entity') == before + 1
        time.sleep(1.5)
        drop_kernel_dentries()
        stat_missing(target)
        assert graphql_count(srv, 'Entity') == before + 2


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def test_running_run_refreshes_finished_run_stays(srv):
    truth = truth_runs(srv, ENT, PROJ)
    running = sorted(n for n, t in truth.items() if t['state'] == 'running')
    finished = sorted(n for n, t in truth.items() if t['state'] != 'running')
    assert running and finished
    r, f = running[0], finished[0]
    ttl = 2
    with Mount(srv, args=['--cache-ttl-running=%d' % ttl]) as m:
        rdir = m.path(ENT, PROJ, 'runs', r)
        fdir = m.path(ENT, PROJ, 'runs', f)
        t0 = time.time()
        old_r = read(os.path.join(rdir, 'summary.json'))
        old_f = read(os.path.join(fdir, 'summary.json'))
        new_r = {'loss': 0.125, 'note': 'updated after the first read, and longer', 'step': 999}
        new_f = {'loss': 0.5, 'note': 'a finished run changed behind our back'}
        admin_update_run(srv, ENT, PROJ, r, summaryMetrics=json.dumps(new_r))
        admin_update_run(srv, ENT, PROJ, f, summaryMetrics=json.dumps(new_f))
        if time.time() - t0 < ttl * 0.75:
            # Within the TTL the cached bytes are served, without a request.
            n = graphql_count(srv)
            assert read(os.path.join(rdir, 'summary.json')) == old_r
            assert graphql_count(srv) == n
        time.sleep(ttl + 0.5)
        want = pretty(new_r)
        assert os.stat(os.path.join(rdir, 'summary.json')).st_size == len(want)
        assert read(os.path.join(rdir, 'summary.json')) == want
        # A finished run keeps its long lifetime.
        assert read(os.path.join(fdir, 'summary.json')) == old_f
        # A state change reaches metadata.json once the short TTL passes.
        admin_update_run(srv, ENT, PROJ, r, state='finished',
                         heartbeatAt='2030-01-01T00:00:00')
        time.sleep(ttl + 0.5)
        with open(os.path.join(rdir, 'metadata.json')) as fh:
            meta = json.load(fh)
        assert (meta['state'], meta['heartbeatAt']) == ('finished', '2030-01-01T00:00:00')
        assert os.stat(os.path.join(rdir, 'metadata.json')).st_mtime == \
            calendar.timegm((2030, 1, 1, 0, 0, 0))
        # Every file still reads whole: stat size == bytes read.
        for name in ('config.json', 'summary.json', 'metadata.json'):
            p = os.path.join(rdir, name)
            assert os.stat(p).st_size == len(read(p))


def test_ls_l_refresh_of_running_runs_is_light(srv):
    """Expired records of running runs under a fresh listing are refreshed
    together, without their heavy fields (ls -l needs no config)."""
    truth = truth_runs(srv, ENT, PROJ)
    with Mount(srv, args=['--cache-ttl-running=1', '--cache-ttl=600']) as m:
        runs = m.path(ENT, PROJ, 'runs')
        assert sorted(os.listdir(runs)) == sorted(truth)
        for name in truth:
            os.stat(os.path.join(runs, name))
        time.sleep(1.5)
        before = len(srv.requests('graphql'))
        for name in truth:
            os.stat(os.path.join(runs, name))
        new = srv.requests('graphql')[before:]
        assert [e['op'] for e in new] == ['Runs'], new
        v = new[0]['variables']
        assert not v.get('withConfig') and not v.get('withSummary')
        asked = set(json.loads(v['filters'])['name']['$in'])
        assert asked == {n for n, t in truth.items() if t['state'] == 'running'}
