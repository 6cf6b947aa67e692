"""The baselines: what the W&B SDK (wandb.Api) sends, from Python's standard
library over one keep-alive HTTP connection, with the SDK's own GraphQL
documents.

  paged pattern  wandb.Api().runs(path) when runs are not lazy: the Runs
                 listing, 50 runs a page, each with the full run fragment
                 (config, summaryMetrics, systemMetrics, historyKeys), pages
                 one after another (each needs the previous page's cursor).
  lazy pattern   the SDK's default: the Runs listing with the light fragment
                 (50 a page), then, as the caller touches run.config or
                 run.summary, one Run query per run.

Both ask for gzip, as the SDK's HTTP library does, and the runs in the
SDK's default order (+created_at)."""
import base64
import gzip
import http.client
import json
import time
import urllib.parse

PER_PAGE = 50
ORDER = '+created_at'

LIGHT_FIELDS = ('id tags name displayName sweepName state group jobType commit readOnly '
                'createdAt heartbeatAt description notes historyLineCount user { name username }')
HEAVY_FIELDS = 'config systemMetrics summaryMetrics historyKeys'
RUNS_QUERY = '''query Runs($project: String!, $entity: String!, $cursor: String, $perPage: Int = 50,
                   $order: String, $filters: JSONString) {
  project(name: $project, entityName: $entity) {
    internalId
    runCount(filters: $filters)
    readOnly
    runs(filters: $filters, after: $cursor, first: $perPage, order: $order) {
      edges { node { projectId ...%(fragment)s } cursor }
      pageInfo { endCursor hasNextPage }
    }
  }
}
fragment %(fragment)s on Run { %(fields)s }'''
RUNS_FULL = RUNS_QUERY % {'fragment': 'RunFragment', 'fields': LIGHT_FIELDS + ' ' + HEAVY_FIELDS}
RUNS_LIGHT = RUNS_QUERY % {'fragment': 'LightweightRunFragment', 'fields': LIGHT_FIELDS}
RUN_QUERY = '''query Run($project: String!, $entity: String!, $name: String!) {
  project(name: $project, entityName: $entity) { run(name: $name) { projectId ...RunFragment } }
}
fragment RunFragment on Run { %s %s }''' % (LIGHT_FIELDS, HEAVY_FIELDS)


class GraphQL:
    """One keep-alive connection to a W&B API server. Use as a context
    manager."""

    def __init__(self, base_url, api_key, timeout=300):
        url = urllib.parse.urlparse(base_url)
        self.path = url.path.rstrip('/') + '/graphql'
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
        self.headers = {
            'Content-Type': 'application/json', 'Accept-Encoding': 'gzip',
            'Authorization': 'Basic ' + base64.b64encode(('api:' + api_key).encode()).decode()}

    def send(self, query, variables):
        """POST one request; returns the (decompressed) response body.
        Raises on an HTTP error."""
        body = json.dumps({'query': query, 'variables': variables})
        self.conn.request('POST', self.path, body=body, headers=self.headers)
        resp = self.conn.getresponse()
        raw = resp.read()
        if resp.getheader('Content-Encoding') == 'gzip':
            raw = gzip.decompress(raw)
        if resp.status != 200:
            raise RuntimeError('GraphQL request failed with HTTP %d: %s'
                               % (resp.status, raw[:300].decode('utf-8', 'replace')))
        return raw

    def query(self, query, variables):
        """data of one request; raises on GraphQL errors."""
        doc = json.loads(self.send(query, variables))
        if doc.get('errors'):
            raise RuntimeError('GraphQL errors: %s' % json.dumps(doc['errors'])[:300])
        return doc['data']

    def timed_send(self, query, variables, repeat):
        """Median seconds of repeat round trips of one request (body read
        and decompressed, not parsed)."""
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            self.send(query, variables)
            times.append(time.perf_counter() - t0)
        return sorted(times)[len(times) // 2]

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _pages(gql, entity, project, query):
    """The run nodes of each Runs page, in order, one request at a time."""
    cursor = None
    while True:
        runs = gql.query(query, {'entity': entity, 'project': project, 'cursor': cursor,
                                 'perPage': PER_PAGE, 'order': ORDER, 'filters': '{}'})
        runs = runs['project']['runs']
        yield [e['node'] for e in runs['edges']]
        if not runs['pageInfo']['hasNextPage'] or not runs['edges']:
            return
        cursor = runs['edges'][-1]['cursor']


def paged(gql, entity, project, full=True):
    """Every run node of the project, as the SDK lists them: the full
    fragment when full, else the light one (the lazy listing alone)."""
    out = []
    for nodes in _pages(gql, entity, project, RUNS_FULL if full else RUNS_LIGHT):
        out += nodes
    return out


def lazy(gql, entity, project, limit=None):
    """The lazy pattern over the first limit runs (all when None): the light
    listing, and one Run query per run as the caller reaches it. Returns the
    full run nodes."""
    out = []
    for nodes in _pages(gql, entity, project, RUNS_LIGHT):
        for node in nodes:
            if limit is not None and len(out) >= limit:
                return out
            run = gql.query(RUN_QUERY, {'entity': entity, 'project': project,
                                        'name': node['name']})
            out.append(run['project']['run'])
        if limit is not None and len(out) >= limit:
            return out
    return out
