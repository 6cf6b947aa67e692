"""Helpers shared by the filesystem tests (test_fs_*.py): data directories
for the test server, the server's truth read without our code (straight
GraphQL from Python, the corpus files parsed by PyYAML / json, config
unwrapped as wandb.Api does), and request counting."""
import base64
import json
import os
import re
import urllib.request

import yaml

from harness import CORPUS, raw_graphql, unwrap  # noqa: F401 (re-exported)

RUN_DIR_RE = re.compile(r'^(?:offline-run|run|dryrun)-\d{8}_\d{6}-(.+)$')
WANDB_FILES = ('config.yaml', 'run_config.yaml', 'wandb-summary.json', 'wandb-metadata.json',
               'wandb-history.jsonl', 'wandb-events.jsonl', 'output.log')


def data_dir(tmp_path_factory, name, server_json):
    """A temporary data dir holding only server.json."""
    d = tmp_path_factory.mktemp(name)
    (d / 'server.json').write_text(json.dumps(server_json))
    return str(d)


def truth_runs(server, entity, project):
    """name -> {state, config (wrapped, parsed), summary (parsed)} of every run."""
    query = ('query T($e: String!, $p: String!, $c: String) { project(name: $p, entityName: $e) {'
             ' runs(first: 1000, after: $c) { edges { node { name state config summaryMetrics } }'
             ' pageInfo { endCursor hasNextPage } } } }')
    out, cursor = {}, None
    while True:
        runs = raw_graphql(server, query, {'e': entity, 'p': project, 'c': cursor})['project']['runs']
        for e in runs['edges']:
            n = e['node']
            out[n['name']] = {'state': n['state'], 'config': json.loads(n['config'] or '{}'),
                              'summary': json.loads(n['summaryMetrics'] or '{}')}
        if not runs['pageInfo']['hasNextPage']:
            return out
        cursor = runs['pageInfo']['endCursor']


def admin_update_run(server, entity, project, name, **fields):
    body = json.dumps({'entity': entity, 'project': project, 'name': name,
                       'set': fields}).encode()
    req = urllib.request.Request(server.base_url + '/_admin/update-run', data=body, headers={
        'Content-Type': 'application/json',
        'Authorization': 'Basic ' + base64.b64encode(('api:' + server.api_key).encode()).decode()})
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert json.loads(resp.read()) == {'ok': True}


def pretty(value):
    """The bytes wandbfs serves for a JSON value: Python's indent=2 dump,
    non-ASCII kept, plus a newline (exact for values without floats whose
    digits Python would respell)."""
    return (json.dumps(value, indent=2, ensure_ascii=False) + '\n').encode()


def graphql_count(server, op=None):
    return len([e for e in server.requests('graphql') if op is None or e.get('op') == op])


# ---- the corpus ------------------------------------------------------------------------------------

def _is_run_dir(path):
    name = os.path.basename(path)
    if RUN_DIR_RE.match(name) or os.path.isdir(os.path.join(path, 'files')):
        return True
    return any(os.path.exists(os.path.join(path, f)) for f in WANDB_FILES)


def _run_id(path, files):
    """The run ID the W&B tools give a run dir (tests/server/README.md)."""
    m = RUN_DIR_RE.match(os.path.basename(path))
    if m:
        return m.group(1)
    for f in sorted(os.listdir(path)):
        w = re.match(r'^run-(.+?)\.wandb(?:\.synced)?$', f)
        if w:
            return w.group(1)
    meta = os.path.join(files, 'wandb-metadata.json')
    if os.path.exists(meta):
        with open(meta, encoding='utf-8') as f:
            doc = json.load(f)
        for k in ('id', 'run_id', 'runId'):
            if isinstance(doc.get(k), str) and doc[k]:
                return doc[k]
    return os.path.basename(path)


class _Yaml12Floats(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 float syntax: the SDK's config held
    floats such as 1e-05 (what the server stores), which PyYAML's YAML 1.1
    rules would read back as strings."""


_Yaml12Floats.add_implicit_resolver(
    'tag:yaml.org,2002:float',
    re.compile(r'''^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                  |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
                  |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
                  |[-+]?\.(?:inf|Inf|INF)
                  |\.(?:nan|NaN|NAN))$''', re.X),
    list('-+0123456789.'))


def corpus_runs():
    """Every corpus run: dicts with project, dir, id, and the config and
    summary wandb.Api would give (config.yaml via yaml.safe_load, with YAML
    1.2 floats, + unwrap,
    keys as JSON has them; wandb-summary.json via json.loads, NaN included;
    {} when a file is missing or empty)."""
    out = []
    root = os.path.join(CORPUS, 'runs')
    for project in sorted(os.listdir(root)):
        for name in sorted(os.listdir(os.path.join(root, project))):
            path = os.path.join(root, project, name)
            if not os.path.isdir(path) or name.startswith('sweep-') or not _is_run_dir(path):
                continue
            files = os.path.join(path, 'files') if os.path.isdir(os.path.join(path, 'files')) else path
            config = {}
            for c in ('config.yaml', 'run_config.yaml'):
                if os.path.exists(os.path.join(files, c)):
                    with open(os.path.join(files, c), encoding='utf-8') as f:
                        config = unwrap(yaml.load(f, Loader=_Yaml12Floats))
                    config = json.loads(json.dumps(config, default=str))
                    break
            summary = {}
            sp = os.path.join(files, 'wandb-summary.json')
            if os.path.exists(sp):
                with open(sp, encoding='utf-8') as f:
                    text = f.read()
                if text.strip():
                    summary = json.loads(text)
            out.append({'project': project, 'dir': name, 'id': _run_id(path, files),
                        'config': config, 'summary': summary})
    return out
