"""The benchmark suite behind scripts/bench/run.

One test server (with --latency-ms per GraphQL request) holds the data of
every row group; one wandbfs mount serves every row. A row group is a module
with a class that has:

  name                     short name, shown in notes
  generate()               the server.json `generate` entries it needs
  mount_args()             wandbfs options it needs (printed in the header)
  on_mount(bench, mount)   measures wandbfs (cold, warm) through the mount
  baselines(bench)         measures the baselines once the mount is gone
                           (so their request counts are theirs alone) and
                           returns its table rows

Modules:
  session   the server, the mount, phases (time + requests from the
            server's request log), peak RSS, the machine
  sdk       the W&B SDK's GraphQL documents and access patterns, sent from
            the standard library over one keep-alive connection
  jsontext  JSON with numbers kept as their text, rendered as the mount
            renders files
  table     measures, rows, targets and the printed table
  runs      the run rows: grep configs, cat summaries, ls -l, warm grep
"""


class Disagreement(Exception):
    """wandbfs and a baseline disagree about the answer (or the benchmark
    would compare nothing): the suite fails."""
