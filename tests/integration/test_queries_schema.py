"""Every GraphQL document the client can send (client/queries/*.graphql) is
valid against the W&B schema, self-contained (validated with --isolate, as
each is sent alone) and named after its file; the core read paths are also
valid against the 2023 base schema alone, so older servers accept them."""
import glob
import json
import os
import subprocess

import pytest

from harness import ROOT, SHARED

QUERIES = os.path.join(ROOT, 'client', 'queries')
VALIDATE = os.path.join(SHARED, 'wandb-schema', 'validate.mjs')
GRAPHQL_MODULES = os.environ.get('GRAPHQL_MODULE_DIR',
                                 os.path.join(ROOT, 'tests', 'server', 'node_modules'))

# Documents on the core read paths (viewer, entities, projects, runs, run
# files, history, artifacts by name, manifests, file URLs): they must validate
# against the base schema alone. Owners add their operation names here.
CORE_BASE_ONLY = [
    'Viewer', 'Entity', 'Projects', 'Project', 'Runs', 'Run',
    'RunFiles', 'RunHistoryKeys', 'RunHistoryWindow', 'RunSampledHistory', 'RunEvents',
    'RunLogTail', 'ProjectArtifactTypes', 'ArtifactTypeCollections',
    'ProjectArtifactCollections', 'CollectionArtifacts', 'CollectionMemberships',
    'CollectionMembershipByAlias', 'ArtifactByID', 'FetchArtifactManifest', 'ArtifactFileUrls',
]


def documents():
    return sorted(glob.glob(os.path.join(QUERIES, '*.graphql')))


def validate(files, *opts):
    """Results of validate.mjs --json --isolate, one dict per operation."""
    env = dict(os.environ, GRAPHQL_MODULE_DIR=GRAPHQL_MODULES)
    proc = subprocess.run(['node', VALIDATE, '--json', '--isolate', *opts, *files],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode in (0, 1), 'validate.mjs failed to run:\n' + proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def failures(results):
    return ['%s %s: %s' % (os.path.basename(r['file']), r['operation'],
                           '; '.join(e['message'] for e in r['errors']))
            for r in results if not r['ok']]


def test_documents_exist():
    names = [os.path.basename(f)[:-len('.graphql')] for f in documents()]
    assert names, 'no documents in client/queries'
    missing = sorted(set(CORE_BASE_ONLY) - set(names))
    assert not missing, 'CORE_BASE_ONLY names without a document: %s' % missing


def test_all_documents_valid_against_full_schema():
    results = validate(documents())
    assert not failures(results), '\n'.join(failures(results))
    # every file produced at least one checked operation
    checked = {os.path.basename(r['file']) for r in results}
    assert checked == {os.path.basename(f) for f in documents()}


def test_one_named_operation_per_file_named_as_the_file():
    results = validate(documents())
    by_file = {}
    for r in results:
        if not r['operation'].startswith('fragment '):
            by_file.setdefault(os.path.basename(r['file']), []).append(r['operation'])
    bad = []
    for f in documents():
        base = os.path.basename(f)
        want = base[:-len('.graphql')]
        ops = by_file.get(base, [])
        if len(ops) != 1 or ops[0].split(' ', 1)[1] != want:
            bad.append('%s: operations %s, want exactly one named %s' % (base, ops, want))
    assert not bad, '\n'.join(bad)


def test_core_documents_valid_against_base_schema():
    files = [os.path.join(QUERIES, n + '.graphql') for n in CORE_BASE_ONLY]
    results = validate(files, '--base-only')
    assert not failures(results), '\n'.join(failures(results))
    assert len([r for r in results if r['operation'].startswith(('query ', 'mutation '))]) \
        == len(CORE_BASE_ONLY)


@pytest.mark.parametrize('text,problem', [
    ('query { viewer { id } }', 'anonymous'),
    ('query Viewer { viewer { noSuchField } }', 'unknown field'),
    ('fragment F on User { id }\nquery Viewer { viewer { ...F } }\n', None),
])
def test_checker_catches_bad_documents(tmp_path, text, problem):
    """The checks above can fail: an anonymous or invalid document is caught."""
    path = tmp_path / 'Viewer.graphql'
    path.write_text(text)
    results = validate([str(path)])
    ops = [r['operation'] for r in results if not r['operation'].startswith('fragment ')]
    if problem == 'anonymous':
        assert ops == ['query <anonymous>']
    elif problem == 'unknown field':
        assert failures(results)
    else:
        assert ops == ['query Viewer'] and not failures(results)
