#!/usr/bin/env python3
# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Two instances writing parties into the shared tables at the same time.

The script plays the database administrator on the PostgreSQL server given
by PGHOST / PGPORT / PGUSER / PGPASSWORD (it creates its roles and database
with unique names and drops them at the end), sets up a primary (party code
prefix 1-) and a secondary (2-), then runs WORKERS processes per instance,
each creating PARTIES parties with an address, one transaction each, through
proteus. It prints, per instance, the parties created, the errors that
reached the caller and the throughput, then what the database holds:
parties, addresses, duplicate codes and lost parties.

A second phase sets up a secondary while a writer keeps creating parties on
the primary, and prints how many writes happened during the set-up and
whether any failed.

    python benchmarks/concurrency.py [--parties 500] [--workers 4]
"""
import argparse
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

SAVE = r'''
from trytond import backend

retried = []


def save(record):
    """Save as a trytond server does for a client: a transaction that
    PostgreSQL aborted (a deadlock, a serialization failure) is rolled back
    and run again, up to [database] retry (5) times; only what fails then
    reaches the user"""
    for attempt in range(6):
        try:
            return record.save()
        except backend.DatabaseOperationalError as exception:
            if attempt == 5:
                raise
            retried.append(type(exception).__name__)
'''

WORKER = r'''
import time
Party = Model.get('party.party')
time.sleep(max(0, %(start_at)r - time.time()))
created, errors = [], []
start = time.time()
for i in range(%(parties)d):
    party = Party(name='bench %(tag)s %%s' %% i)
    party.addresses[0].city = 'Bench'
    try:
        save(party)
        created.append([party.id, party.code])
    except Exception as exception:
        errors.append('%%s: %%s' %% (type(exception).__name__,
                getattr(exception, 'message', exception)))
result = {'created': created, 'errors': errors, 'retried': retried,
    'start': start, 'end': time.time()}
'''

WRITER = r'''
import os
import time
Party = Model.get('party.party')
created, errors = [], []
start = time.time()
i = 0
while not os.path.exists(%(stop)r):
    i += 1
    party = Party(name='writer %%s' %% i)
    party.addresses[0].city = 'Writer'
    try:
        save(party)
        created.append([party.id, party.code])
    except Exception as exception:
        errors.append('%%s: %%s' %% (type(exception).__name__,
                getattr(exception, 'message', exception)))
result = {'created': created, 'errors': errors, 'retried': retried,
    'start': start, 'end': time.time()}
'''

CREATE_ONE = '''
Party = Model.get('party.party')
party = Party(name='after setup')
party.addresses[0].city = 'Liège'
party.save()
result = party.code
'''


def run_parallel(jobs):
    "Run the callables in threads; return their results in order"
    results = [None] * len(jobs)

    def target(index, job):
        try:
            results[index] = job()
        except BaseException as exception:
            results[index] = exception
    threads = [threading.Thread(target=target, args=(i, j))
        for i, j in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def database_counts(cluster, dbname, like):
    def one(query, params=()):
        return cluster.count(dbname, query, params)
    return {
        'parties': one('SELECT count(*) FROM public.party_party '
            'WHERE name LIKE %s', (like,)),
        'addresses': one('SELECT count(*) FROM public.party_address a '
            'JOIN public.party_party p ON p.id = a.party '
            'WHERE p.name LIKE %s', (like,)),
        'duplicate_codes': one('SELECT count(*) FROM (SELECT code '
            'FROM public.party_party GROUP BY code '
            'HAVING count(*) > 1) d'),
        }


def workload(env, dbname, one, two, parties, workers, out=print):
    "Run the workers of both instances; return and print the figures"
    start_at = time.time() + 8  # proteus starts in a few seconds
    jobs = []
    for instance in [one, two]:
        for worker in range(workers):
            code = SAVE + WORKER % {'start_at': start_at,
                'parties': parties,
                'tag': '%s-%s' % (instance.name, worker)}
            jobs.append(lambda i=instance, c=code: i.proteus(
                    c, check=False, timeout=3600))
    results = run_parallel(jobs)
    figures = {'instances': {}}
    created_ids = set()
    created_total = 0
    for index, instance in enumerate([one, two]):
        mine = results[index * workers:(index + 1) * workers]
        failures = [str(r) for r in mine if not isinstance(r, dict)]
        mine = [r for r in mine if isinstance(r, dict)]
        created = [c for r in mine for c in r['created']]
        errors = Counter(e.split(':')[0] for r in mine for e in r['errors'])
        created_ids.update(c[0] for c in created)
        created_total += len(created)
        seconds = (max(r['end'] for r in mine) - min(r['start'] for r in mine)
            if mine else 0)
        prefixes = Counter((c[1] or '')[:2] for c in created)
        figures['instances'][instance.name] = info = {
            'workers': workers,
            'asked': parties * workers,
            'created': len(created),
            'errors': dict(errors),
            'retried': dict(Counter(
                    e for r in mine for e in r.get('retried', []))),
            'error_samples': [e for r in mine for e in r['errors']][:3],
            'worker_failures': failures[:3],
            'seconds': round(seconds, 2),
            'parties_per_second': round(len(created) / seconds, 1)
            if seconds else None,
            'code_prefixes': dict(prefixes),
            }
        out('instance %s: %d workers, %d parties asked, %d created, '
            'errors %s (retried as a server does: %s), %.1f s, %s parties/s, '
            'code prefixes %s' % (
                instance.name, workers, info['asked'], info['created'],
                info['errors'] or 0, info['retried'] or 0, seconds,
                info['parties_per_second'], info['code_prefixes']))
        for sample in info['error_samples'] + info['worker_failures']:
            out('  error: %s' % sample.splitlines()[0])
    counts = database_counts(env.cluster, dbname, 'bench %')
    in_db = {i for i, in env.cluster.execute(dbname,
            "SELECT id FROM public.party_party WHERE name LIKE 'bench %%'")}
    counts['lost'] = len(created_ids - in_db)
    counts['created_by_workers'] = created_total
    counts['unexpected'] = len(in_db - created_ids)
    figures['database'] = counts
    out('database: %(parties)d parties (workers saw %(created_by_workers)d '
        'created), %(addresses)d addresses, %(duplicate_codes)d duplicate '
        'codes, %(lost)d lost parties, %(unexpected)d unexpected' % counts)
    return figures


def setup_under_writes(env, out=print):
    """Set up a secondary while a writer creates parties on the primary;
    return and print the figures"""
    dbname, one, two = env.database()
    env.setup_primary(one)
    stop = Path(tempfile.mkdtemp()) / 'stop'
    outcome = {}

    def writer():
        outcome['writer'] = one.proteus(SAVE + WRITER % {'stop': str(stop)},
            check=False, timeout=3600)
    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(8)  # let the writer start writing
    start = time.monotonic()
    try:
        env.setup_secondary(two)
        setup_error = None
    except AssertionError as exception:
        setup_error = str(exception).splitlines()[0]
    seconds = time.monotonic() - start
    stop.touch()
    thread.join()
    written = outcome.get('writer')
    if isinstance(written, dict):
        during = [c for c in written['created']]
        errors = written['errors']
        retried = written.get('retried', [])
    else:
        during, errors, retried = [], [str(written)], []
    code = None
    if setup_error is None:
        code = two.proteus(CREATE_ONE)
    counts = database_counts(env.cluster, dbname, 'writer %')
    figures = {
        'setup_seconds': round(seconds, 2),
        'setup_error': setup_error,
        'writes': len(during),
        'write_errors': len(errors),
        'write_error_samples': errors[:3],
        'write_retries': dict(Counter(retried)),
        'secondary_party_code': code,
        'parties_in_database': counts['parties'],
        'duplicate_codes': counts['duplicate_codes'],
        }
    out('secondary set-up while the primary writes: %s in %.1f s; the '
        'primary wrote %d parties meanwhile (%d in the database), %d write '
        'errors (retried as a server does: %s), %d duplicate codes; first '
        'party of the secondary: %s' % (
            'ok' if setup_error is None else 'FAILED (%s)' % setup_error,
            seconds, len(during), counts['parties'], len(errors),
            dict(Counter(retried)) or 0, counts['duplicate_codes'], code))
    env.cluster.drop_database(dbname)
    return figures


def run(env, parties, workers, out=print):
    "Both phases on env (a tests.safety_env.Env); return the figures"
    dbname, one, two = env.full()
    figures = {'parties_per_worker': parties}
    figures.update(workload(env, dbname, one, two, parties, workers, out))
    env.cluster.drop_database(dbname)
    figures['setup_under_writes'] = setup_under_writes(env, out)
    return figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--parties', type=int, default=500,
        help='parties each worker creates (default 500)')
    parser.add_argument('--workers', type=int, default=4,
        help='concurrent workers per instance (default 4)')
    parser.add_argument('--json', action='store_true',
        help='print the figures as JSON at the end')
    args = parser.parse_args(argv)
    from trytond.modules.shared_schema.tests.safety_env import Env
    workdir = Path(tempfile.mkdtemp(prefix='shared_schema_bench'))
    env = Env(workdir)
    try:
        start = time.monotonic()
        print('setting up two instances (takes a minute or two)...',
            flush=True)
        figures = run(env, args.parties, args.workers,
            out=lambda line: print(line, flush=True))
        print('total %.1f s' % (time.monotonic() - start))
        if args.json:
            print(json.dumps(figures, indent=1, default=str))
    finally:
        errors = env.close()
        for error in errors:
            print('cleanup: %s' % error, file=sys.stderr)
    ok = (figures['database']['duplicate_codes'] == 0
        and figures['database']['lost'] == 0
        and figures['setup_under_writes']['setup_error'] is None)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
