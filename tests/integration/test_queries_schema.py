"""Every GraphQL document the client can send (client/queries/*.graphql,
composed by embed.py with the fragments it spreads from
client/queries/fragments/, as the client embeds it) is valid against the W&B
schema, self-contained (validated with --isolate, as each is sent alone) and
named after its file; the core read paths are also valid against the 2023
base schema alone, so older servers accept them."""
import json
import os

import pytest

from harness import composed_queries, embed_compose, query_documents, run_validate

# Documents on the core read paths (viewer, entities, projects, runs, run
# files, history, artifacts by name, manifests, file URLs): they must validate
# against the base schema alone. Owners add their operation names here.
CORE_BASE_ONLY = [
    'Viewer', 'Entity', 'Projects', 'Project', 'Runs', 'Run',
    'RunFiles', 'RunHistoryKeys', 'RunHistoryWindow', 'RunSampledHistory', 'RunEvents',
    'RunLogTail', 'ProjectArtifactTypes', 'ArtifactTypeCollections',
    'ProjectArtifactCollections', 'CollectionArtifacts', 'CollectionMemberships',
    'CollectionMembershipByAlias', 'ArtifactByID', 'FetchArtifactManifest', 'ArtifactFileUrls',
    'RunArtifacts',
]


@pytest.fixture(scope='module')
def composed(tmp_path_factory):
    """Operation name -> path of its complete document, as embedded."""
    return composed_queries(tmp_path_factory.mktemp('composed'))


def validate(files, *opts):
    """Results of validate.mjs --json --isolate, one dict per operation."""
    proc = run_validate(files, '--json', '--isolate', *opts)
    assert proc.returncode in (0, 1), 'validate.mjs failed to run:\n' + proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def failures(results):
    return ['%s %s: %s' % (os.path.basename(r['file']), r['operation'],
                           '; '.join(e['message'] for e in r['errors']))
            for r in results if not r['ok']]


def test_documents_exist():
    names = [os.path.basename(f)[:-len('.graphql')] for f in query_documents()]
    assert names, 'no documents in client/queries'
    missing = sorted(set(CORE_BASE_ONLY) - set(names))
    assert not missing, 'CORE_BASE_ONLY names without a document: %s' % missing


def test_all_documents_valid_against_full_schema(composed):
    results = validate(sorted(composed.values()))
    assert not failures(results), '\n'.join(failures(results))
    # every file produced at least one checked operation
    checked = {os.path.basename(r['file']) for r in results}
    assert checked == {os.path.basename(f) for f in query_documents()}


def test_one_named_operation_per_file_named_as_the_file(composed):
    results = validate(sorted(composed.values()))
    by_file = {}
    for r in results:
        if not r['operation'].startswith('fragment '):
            by_file.setdefault(os.path.basename(r['file']), []).append(r['operation'])
    bad = []
    for f in query_documents():
        base = os.path.basename(f)
        want = base[:-len('.graphql')]
        ops = by_file.get(base, [])
        if len(ops) != 1 or ops[0].split(' ', 1)[1] != want:
            bad.append('%s: operations %s, want exactly one named %s' % (base, ops, want))
    assert not bad, '\n'.join(bad)


def test_core_documents_valid_against_base_schema(composed):
    files = [composed[n] for n in CORE_BASE_ONLY]
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


def test_compose_appends_spread_fragments_transitively_once(tmp_path):
    """A document gets every fragment it needs, through other fragments too,
    once each, and none it does not spread."""
    (tmp_path / 'fragments').mkdir()
    (tmp_path / 'fragments' / 'Inner.graphql').write_text('fragment Inner on User { id }\n')
    (tmp_path / 'fragments' / 'Outer.graphql').write_text(
        'fragment Outer on User { username ...Inner }\n')
    (tmp_path / 'Viewer.graphql').write_text(
        'query Viewer { viewer { ...Outer ...Inner ... on User { email } } }\n')
    (tmp_path / 'Entity.graphql').write_text(
        'query Entity($name: String!) { entity(name: $name) { name } }\n')
    out = tmp_path / 'out'
    proc = embed_compose(out, [str(p) for p in tmp_path.glob('**/*.graphql')])
    assert proc.returncode == 0, proc.stderr
    viewer = (out / 'Viewer.graphql').read_text()
    assert viewer.count('fragment Outer') == 1 and viewer.count('fragment Inner') == 1
    assert viewer.index('fragment Outer') < viewer.index('fragment Inner')
    assert 'fragment' not in (out / 'Entity.graphql').read_text()
    assert sorted(p.name for p in out.iterdir()) == ['Entity.graphql', 'Viewer.graphql']
    results = validate([str(out / 'Viewer.graphql')])
    assert [r['operation'] for r in results
            if not r['operation'].startswith('fragment ')] == ['query Viewer']
    assert not failures(results)


@pytest.mark.parametrize('fragment,query,problem', [
    ('fragment F on User { id }\n', 'query Viewer { viewer { ...G } }\n', 'unknown fragment'),
    ('fragment F on User { id }\n', 'query Viewer { viewer { id } }\n', 'spread by no operation'),
    ('fragment G on User { id }\n', 'query Viewer { viewer { ...G } }\n', 'fragment named F'),
])
def test_compose_rejects_bad_fragments(tmp_path, fragment, query, problem):
    (tmp_path / 'fragments').mkdir()
    (tmp_path / 'fragments' / 'F.graphql').write_text(fragment)
    (tmp_path / 'Viewer.graphql').write_text(query)
    proc = embed_compose(tmp_path / 'out', [str(tmp_path / 'fragments' / 'F.graphql'),
                                            str(tmp_path / 'Viewer.graphql')])
    assert proc.returncode != 0 and problem in proc.stderr
