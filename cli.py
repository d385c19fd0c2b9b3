# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The ``trytond-shared-schema`` command: provision, status, upgrade, plan.

trytond's configuration and pool are global to a process, so this command
never loads a trytond configuration itself: for each instance (each ``-c``
configuration) it runs a worker, ``python -m
trytond.modules.shared_schema.cli --worker TASK``, that loads that one
configuration, connects through trytond's backend and prints its result as
JSON; the command merges the results.  Module updates run ``trytond-admin``
in a subprocess as well.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from . import translation

MARKER = '@@trytond-shared-schema-worker@@'
WORKER_MODULE = 'trytond.modules.shared_schema.cli'
_TAIL = 40


class CommandError(Exception):
    "A failure reported to the user, without a traceback"


class WorkerError(CommandError):
    "A worker failed"


def default_owner_role(database):
    "<database>_shared, cut from the left to 63 bytes (as the module does)"
    name = '%s_shared' % database
    while len(name.encode('utf-8')) > 63:
        name = name[1:]
    return name


def _tail(text, lines=_TAIL):
    return '\n'.join((text or '').splitlines()[-lines:])


# ---------------------------------------------------------------------------
# Parent side

class Runner:
    "Runs workers and trytond-admin, and prints progress"

    def __init__(self, database, verbose=False, out=None):
        self.database = database
        self.verbose = verbose
        self.out = out or sys.stdout
        self.step = 0

    def say(self, text):
        print(text, file=self.out, flush=True)

    def progress(self, text):
        self.step += 1
        self.say('[%s] %s' % (self.step, text))

    def detail(self, text):
        if self.verbose:
            for line in text.splitlines():
                self.say('    ' + line)

    def env(self, extra=None):
        env = os.environ.copy()
        env.pop('TRYTOND_CONFIG', None)
        env.update(extra or {})
        return env

    def worker(self, task, config=None, env=None, **kwargs):
        "Run task in a worker for config and return its result"
        command = [sys.executable, '-m', WORKER_MODULE, '--worker', task,
            '-d', self.database]
        if config:
            command += ['-c', config]
        self.detail('$ ' + ' '.join(command))
        process = subprocess.run(command, input=json.dumps(kwargs),
            capture_output=True, text=True, env=self.env(env))
        if self.verbose and process.stderr.strip():
            self.detail(_tail(process.stderr, 10))
        payload = None
        for line in reversed(process.stdout.splitlines()):
            if line.startswith(MARKER):
                payload = json.loads(line[len(MARKER):])
                break
        if payload is None:
            raise WorkerError('worker %s on %s gave no result (exit %s):\n%s'
                % (task, config or 'admin connection', process.returncode,
                    _tail(process.stderr)))
        if 'error' in payload:
            error = payload['error']
            message = '%s on %s: %s' % (
                task, config or 'admin connection', error['message'])
            if self.verbose:
                message += '\n' + error['traceback']
            raise WorkerError(message)
        return payload['result']

    def workers(self, task, configs, **kwargs):
        "Run task for every config in parallel; results in config order"
        def run(args):
            index, config = args
            extra = kwargs.get('per_config', {}).get(index, {})
            params = {k: v for k, v in kwargs.items() if k != 'per_config'}
            params.update(extra)
            try:
                return self.worker(task, config, **params)
            except WorkerError as exception:
                return exception
        with ThreadPoolExecutor(max_workers=min(4, len(configs))) as pool:
            results = list(pool.map(run, enumerate(configs)))
        errors = [r for r in results if isinstance(r, WorkerError)]
        if errors:
            raise WorkerError('\n'.join(str(e) for e in errors))
        return results

    def trytond_admin(self, config, args):
        "Run trytond-admin on config; return (ok, reason)"
        command = trytond_admin_command() + [
            '-c', config, '-d', self.database] + list(args)
        self.detail('$ ' + ' '.join(command))
        process = subprocess.run(command, capture_output=True, text=True,
            stdin=subprocess.DEVNULL, env=self.env())
        if self.verbose:
            self.detail(_tail(process.stderr, 20))
        if process.returncode:
            reason = _last_error(process.stderr) or (
                'exit status %s' % process.returncode)
            return False, reason, process.stderr
        return True, None, process.stderr


def _last_error(text):
    "The last line of a traceback, the error itself"
    lines = [l for l in (text or '').splitlines() if l.strip()]
    for line in reversed(lines):
        if not line.startswith((' ', '\t')):
            return line.strip()
    return lines[-1].strip() if lines else ''


def trytond_admin_command():
    "The command line that runs trytond-admin with this python"
    for path in [
            os.path.join(os.path.dirname(sys.executable), 'trytond-admin'),
            shutil.which('trytond-admin')]:
        if path and os.path.isfile(path):
            return [sys.executable, path]
    return [sys.executable, '-m', 'trytond.admin']


def cmd_provision(options, runner):
    configs = options.config
    runner.progress('read the database role of %s configuration(s)'
        % len(configs))
    described = runner.workers('describe', configs)
    roles = [d['user'] for d in described]
    for config, role in zip(configs, roles):
        runner.detail('%s: role %s' % (config, role))
    if len(set(roles)) != len(roles):
        raise CommandError('two configurations connect as the same role: %s'
            % ', '.join(roles))
    owner_role = options.owner_role or default_owner_role(options.database)
    if owner_role in roles:
        raise CommandError('the shared owner role "%s" cannot be an '
            'instance role' % owner_role)
    env = {}
    if options.admin_uri:
        env['TRYTOND_DATABASE__URI'] = options.admin_uri
    else:
        env['TRYTOND_DATABASE__URI'] = 'postgresql:///'
    runner.progress('%s database "%s": roles %s, owner role %s, shared '
        'schema %s' % ('plan' if options.dry_run else 'provision',
            options.database, ', '.join(roles), owner_role, options.schema))
    result = runner.worker('provision', env=env, roles=roles,
        owner_role=owner_role, schema=options.schema,
        dry_run=options.dry_run)
    if options.dry_run:
        for text in result['rendered']:
            runner.say(text)
    else:
        for step in result['steps']:
            runner.progress(step)
        for text in result['rendered']:
            runner.detail(text)
    if result['refused']:
        runner.say('provision: REFUSED')
        for plan in result['plans']:
            for refusal in plan['refusals']:
                runner.say('  ' + refusal['message'])
        return 1
    runner.say('provision: %s' % (
            'dry run, nothing changed' if options.dry_run else 'done'))
    return 0


def collect_all(options, runner, map_path=None):
    configs = options.config
    runner.progress('collect the state of %s instance(s)' % len(configs))
    per_config = {i: {'shared': i == 0} for i in range(len(configs))}
    if map_path:
        per_config[0]['map_path'] = map_path
    return runner.workers('collect', configs,
        shared_schema=options.schema, owner_role=options.owner_role,
        per_config=per_config)


def cmd_status(options, runner):
    from .status import evaluate
    if options.format == 'json':
        runner.out = sys.stderr
    map_path = os.path.abspath(options.map) if options.map else None
    results = collect_all(options, runner, map_path)
    findings = evaluate(results)
    if results[0].get('map_error'):
        findings['problems'].append({'code': 'map', 'instance': None,
                'message': 'The sharing map could not be written to %s: %s'
                % (map_path, results[0]['map_error'])})
    elif map_path:
        runner.progress('sharing map written to %s' % map_path)
    if options.format == 'json':
        print(json.dumps({
                    'database': options.database,
                    'instances': results,
                    'problems': findings['problems'],
                    'warnings': findings['warnings'],
                    'ok': not findings['problems'],
                    }, indent=2, default=str, sort_keys=True))
    else:
        print_status(runner, results, findings)
    return 1 if findings['problems'] else 0


def print_status(runner, results, findings):
    say = runner.say
    first = results[0]
    say('Database %s, shared schema "%s", shared owner role "%s"' % (
            runner.database, first['shared_schema'],
            first['owner_role'] or '-'))
    say('Registered instances:')
    for instance in first['registry'] or []:
        say('  %-20s %-9s schema %-20s role %-20s prefix %-6s set up %s' % (
                instance['name'], instance['role'], instance['schema_name'],
                instance['db_role'], instance['party_prefix'] or '-',
                instance['setup_date'] or '-'))
    if not first['registry']:
        say('  (none)')
    shared = first.get('shared') or {}
    tables = shared.get('tables', [])
    say('Shared tables (%s):' % len(tables))
    for table in tables:
        say('  %-40s %-10s owner %-20s grants %s' % (
                table['table'],
                first['shared_schema'] if table['shared'] else
                ','.join(table['schemas']) or 'MISSING',
                table['owner'] or '-', ', '.join(table['grants']) or '-'))
    say('Foreign keys from shared to private tables: %s' % (
            ', '.join(shared.get('foreign_keys_outside', [])) or 'none'))
    say('Shadow tables: %s' % (', '.join(shared.get('shadows', []))
            or 'none'))
    say('Members of the shared owner role: %s' % (
            ', '.join(shared.get('members', [])) or 'none'))
    say('Instances checked:')
    for result in results:
        config = result['configuration'] or {}
        drift = result['drift']
        if drift is None:
            sync = '-'
        else:
            sync = 'model data: %s missing, %s stale, %s models missing' % (
                drift['missing'], drift['stale'], drift['models'])
        say('  %-20s %-9s %s' % (
                result['schema'], config.get('role', '-'), sync))
    for warning in findings['warnings']:
        say('WARNING: ' + warning['message'])
    for problem in findings['problems']:
        say('PROBLEM: ' + problem['message'])
    if findings['problems']:
        say('status: %s problem(s)' % len(findings['problems']))
    else:
        say('status: OK')


def cmd_plan(options, runner):
    configs = options.config
    runner.progress('build the plans of %s instance(s)' % len(configs))
    results = runner.workers('plan', configs, shared_schema=options.schema,
        owner_role=options.owner_role)
    refused = False
    for config, result in zip(configs, results):
        runner.say('-- Instance %s (%s, %s)' % (
                result['schema'], result['role'], config))
        if result.get('tables_from'):
            runner.say('-- shared tables taken from %s'
                % result['tables_from'])
        for plan in result['plans']:
            runner.say(plan['rendered'])
            refused = refused or bool(plan['refusals'])
        runner.say('')
    return 1 if refused else 0


def cmd_upgrade(options, runner):
    from .status import evaluate
    configs = options.config
    if len(configs) < 1:
        raise CommandError('give the primary\'s configuration first')
    if options.all:
        admin_args = ['--all']
        modules = None
    elif options.update:
        admin_args = ['-u'] + options.update
        modules = set(options.update)
    else:
        raise CommandError('give the modules to update with -u, or --all')
    if options.activate_dependencies:
        admin_args.append('--activate-dependencies')

    results = collect_all(options, runner)
    primary = results[0]
    config = primary['configuration'] or {}
    if config.get('role') != 'primary':
        raise CommandError('REFUSED: the first configuration (%s, schema '
            '"%s") is not the primary\'s (its role is %s). Give the '
            'primary\'s configuration first: the primary is upgraded '
            'before its secondaries.' % (
                configs[0], primary['schema'],
                config.get('role') or 'not configured'))
    for path, result in zip(configs[1:], results[1:]):
        other = result['configuration'] or {}
        if other.get('role') != 'secondary' or other.get(
                'primary_schema') != primary['schema']:
            raise CommandError('REFUSED: %s (schema "%s") is not a '
                'secondary of the primary "%s"' % (
                    path, result['schema'], primary['schema']))
    findings = evaluate(results)
    blocking = [p for p in findings['problems']
        if p['code'] == 'module_not_on_primary'
        and not (modules and p['module'] in modules)]
    if blocking:
        runner.say('REFUSED: a secondary has modules touching shared models '
            'that the primary does not have; upgrading would leave them '
            'there. What to do:')
        for problem in blocking:
            runner.say('  ' + problem['message'])
        return 1

    for warning in findings['warnings']:
        if warning['code'] == 'not_checked':
            runner.say('WARNING: %s It is not upgraded: upgrade it too, '
                'or its model data drifts from the primary\'s.'
                % warning['message'])

    report = []
    steps = [('primary', configs[0], primary['schema'])] + [
        ('secondary', path, r['schema'])
        for path, r in zip(configs[1:], results[1:])]
    failed = False
    for role, path, schema in steps:
        if failed:
            report.append((schema, role, 'skipped', None))
            continue
        if role == 'secondary':
            runner.progress('%s: resync model data from the primary' % schema)
            try:
                copied = runner.worker('resync', path)
            except WorkerError as exception:
                failed = True
                report.append((schema, role, 'failed',
                        'resync of model data: %s' % exception))
                continue
            counts = copied['counts'] or {}
            runner.detail(copied['rendered'])
            runner.say('    %s statement(s): %s missing rows copied, %s '
                'stale removed, %s models created' % (
                    copied['statements'], counts.get('missing', 0),
                    counts.get('stale', 0), counts.get('models', 0)))
        runner.progress('%s: trytond-admin %s' % (schema,
                ' '.join(admin_args)))
        start = time.monotonic()
        ok, reason, _ = runner.trytond_admin(path, admin_args)
        runner.say('    %s (%.1f s)' % (
                'done' if ok else 'FAILED: %s' % reason,
                time.monotonic() - start))
        if ok:
            report.append((schema, role, 'done', None))
        else:
            failed = True
            report.append((schema, role, 'failed', reason))
    runner.say('Upgrade report:')
    for schema, role, state, reason in report:
        runner.say('  %-20s %-9s %s%s' % (
                schema, role, state, ': %s' % reason if reason else ''))
    return 1 if failed else 0


def make_parser():
    parser = argparse.ArgumentParser(prog='trytond-shared-schema',
        description='Provision, inspect, plan and upgrade Tryton instances '
        'that share tables in one PostgreSQL database. Each -c gives the '
        'trytond configuration of one instance; the primary\'s comes first.')
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument('-c', '--config', action='append', default=[],
        required=True, metavar='CONFIG',
        help='the trytond configuration file of an instance (repeat it: '
        'the primary first, then its secondaries)')
    common.add_argument('-d', '--database', required=True,
        help='the database shared by the instances')
    common.add_argument('-v', '--verbose', action='store_true',
        help='print the commands run, their SQL and their output')
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument('--schema', default=None,
        help='the shared schema (default: from the configuration, or '
        'public)')
    shared.add_argument('--owner-role', default=None,
        help='the shared owner role (default: from the configuration, or '
        '<database>_shared)')
    subparsers = parser.add_subparsers(dest='command', metavar='COMMAND')
    subparsers.required = True

    provision = subparsers.add_parser('provision', parents=[common],
        help='create the database, roles and schemas that are missing',
        description='With an administrator connection (a superuser, or a '
        'role with CREATEROLE and CREATEDB), create what is missing: the '
        'database (owned by the primary\'s role), each instance\'s LOGIN '
        'role and its schema (owned by it), the NOLOGIN shared owner role, '
        'the memberships of the instance roles in it and its USAGE, CREATE '
        'on the shared schema. Nothing that exists is dropped or altered. '
        'CREATE DATABASE runs alone, the rest in one transaction.')
    provision.add_argument('--admin-uri', default=None,
        help='the administrator\'s database URI (default: postgresql:/// '
        'i.e. the PGHOST, PGPORT, PGUSER, PGPASSWORD environment)')
    provision.add_argument('--owner-role', default=None,
        help='the NOLOGIN shared owner role (default: <database>_shared)')
    provision.add_argument('--schema', default='public',
        help='the shared schema (default: public)')
    provision.add_argument('--dry-run', action='store_true',
        help='print the SQL instead of running it')
    provision.set_defaults(func=cmd_provision)

    status = subparsers.add_parser('status', parents=[common, shared],
        help='report the state of the instances; exit 1 on any problem',
        description='Report the registered instances, where each shared '
        'table lives with its owner and grants, foreign keys from shared to '
        'private tables, shadow tables, the model data and translation '
        'drift of each secondary, party prefix collisions, modules '
        'activated on a secondary only that touch shared models, shared '
        'tables not owned '
        'by the shared owner role and members of that role that are not '
        'registered instances. Exit status 1 when anything is wrong.')
    status.add_argument('--format', choices=['text', 'json'],
        default='text', help='the output format (default: text)')
    status.add_argument('--map', metavar='FILE', default=None,
        help='also draw the sharing map into FILE (.svg, .png or .dot; '
        'needs pydot and graphviz)')
    status.set_defaults(func=cmd_status)

    upgrade = subparsers.add_parser('upgrade', parents=[common, shared],
        help='update the primary, then resync and update each secondary',
        description='Run trytond-admin on the primary, then for each '
        'secondary copy the primary\'s model data of the shared models and '
        'run trytond-admin on it. Stops at the first failure and prints a '
        'report per instance. Refuses when the first configuration is not '
        'the primary\'s.')
    which = upgrade.add_mutually_exclusive_group(required=True)
    which.add_argument('-u', '--update', nargs='+', metavar='MODULE',
        help='the modules to activate or update')
    which.add_argument('--all', action='store_true',
        help='update every activated module')
    upgrade.add_argument('--activate-dependencies', action='store_true',
        help='activate the missing dependencies of the updated modules')
    upgrade.set_defaults(func=cmd_upgrade)

    plan = subparsers.add_parser('plan', parents=[common, shared],
        help='print the SQL the move, grant and copy steps would run now',
        description='Print, for each instance, the plan its wizards would '
        'run now: move and grant on the primary, copy of model data on a '
        'secondary, with the analysis (refusals, warnings). Exit status 1 '
        'when a plan is refused.')
    plan.set_defaults(func=cmd_plan)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ['--worker']:
        return worker_main(argv[1:])
    parser = make_parser()
    options = parser.parse_args(argv)
    options.config = [os.path.abspath(c) for c in options.config]
    runner = Runner(options.database, options.verbose)
    try:
        return options.func(options, runner)
    except CommandError as exception:
        print('%s: %s' % (options.command, exception), file=sys.stderr)
        return 1


# ---------------------------------------------------------------------------
# Worker side: one trytond configuration in this process

@contextmanager
def connection(database, autocommit=False):
    "A connection of trytond's backend to database"
    from trytond import backend
    if backend.name != 'postgresql':
        raise CommandError('the database backend is %s, not postgresql'
            % backend.name)
    db = (backend.Database(database) if database
        else backend.Database()).connect()
    conn = db.get_connection(autocommit=autocommit)
    try:
        yield conn
    finally:
        if not autocommit:
            conn.rollback()
        db.put_connection(conn)
        db.close()


def task_describe(database):
    import getpass

    from trytond import config
    uri = config.parse_uri(config.get('database', 'uri'))
    return {
        'user': uri.username or os.environ.get('PGUSER')
        or getpass.getuser(),
        'scheme': uri.scheme,
        }


def task_provision(database, roles, owner_role, schema, dry_run):
    from .provision import plan_database, plan_provision
    with connection(None, autocommit=True) as conn:
        cursor = conn.cursor()
        create = plan_database(cursor, database)
        created = bool(create.statements)
        if dry_run and created:
            setup = plan_provision(cursor, database, roles, owner_role,
                schema, in_database=False, created=True)
    plans = [create]
    steps = []
    if not create.ok:
        return _provision_result(plans, steps)
    if not dry_run and created:
        with connection(None, autocommit=True) as conn:
            create.execute(conn.cursor())
        steps.append('database "%s" created' % database)
    elif not dry_run:
        steps.append('database "%s" exists' % database)
    if not (dry_run and created):
        with connection(database) as conn:
            cursor = conn.cursor()
            setup = plan_provision(cursor, database, roles, owner_role,
                schema, created=created)
            if setup.ok and not dry_run:
                count = setup.execute(cursor)
                conn.commit()
                steps.append('%s statement(s) run in one transaction: %s'
                    % (count, ', '.join(setup.notes) or 'roles, schemas and '
                        'grants provisioned'))
    plans.append(setup)
    return _provision_result(plans, steps)


def _provision_result(plans, steps):
    rendered = [p.render() for p in plans]
    if len(steps) < len(rendered):
        steps = steps + [''] * (len(rendered) - len(steps))
    return {
        'plans': [p.to_dict() for p in plans],
        'rendered': rendered,
        'steps': [s for s in steps if s],
        'refused': any(not p.ok for p in plans),
        }


def task_collect(database, shared_schema=None, owner_role=None,
        shared=True, map_path=None):
    from .status import collect
    with connection(database) as conn:
        result = collect(conn.cursor(), shared_schema, owner_role, shared)
        if map_path:
            write_map(conn.cursor(), result['shared_schema'], map_path,
                result)
        return result


def write_map(cursor, shared_schema, path, result):
    "Draw the sharing map into path; record the error in result"
    try:
        from . import sharing_map
        sharing_map.write(sharing_map.build(cursor, shared_schema), path)
    except Exception as exception:
        result['map_error'] = '%s: %s' % (
            type(exception).__name__, exception)
    else:
        result['map'] = path


def _pool_tables(database, models):
    """The tables of models as the module computes them, which needs the
    pool of the instance"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    from .plan import REGISTRY_TABLE
    pool = Pool(database)
    pool.init()
    with Transaction().start(database, 0, readonly=True):
        from .shared_schema import model_tables
        tables = model_tables(models)
    tables[REGISTRY_TABLE] = 'shared_schema.instance'
    return tables


def task_plan(database, shared_schema=None, owner_role=None):
    from . import status
    from .plan import Desired, Plan, check_roles, plan_grant, plan_move
    with connection(database) as conn:
        cursor = conn.cursor()
        config = status.configuration(cursor)
        if config is None:
            raise CommandError('shared_schema is not configured on this '
                'instance (activate the module and save its configuration)')
        schema = shared_schema or config['schema']
        owner = owner_role or config['owner_role']
        result = {
            'schema': status.catalog.current_schema(cursor),
            'role': config['role'],
            'plans': [],
            }
        plans = []
        if config['role'] == 'primary':
            instances = status.registry(cursor, schema)
            primary = status.primary_entry(instances, result['schema'])
            if primary and sorted(primary['models']) == config['models']:
                tables = primary['tables']
                result['tables_from'] = 'the registry'
            else:
                tables = None
                result['tables_from'] = 'the configuration (pool loaded)'
        else:
            check = Plan('Check the secondary set-up')
            check_roles(check, cursor, owner, schema)
            plans.append(check)
            plans.append(translation.plan_copy_all(cursor, schema))
    if config['role'] == 'primary':
        if tables is None:
            tables = _pool_tables(database, config['models'])
        with connection(database) as conn:
            cursor = conn.cursor()
            lock_timeout = '%ss' % (config['lock_timeout'] or 5)
            plans.append(plan_move(cursor, Desired(schema, owner, tables,
                        lock_timeout=lock_timeout)))
            plans.append(plan_grant(cursor, schema, owner))
    for plan in plans:
        data = plan.to_dict()
        data['rendered'] = plan.render()
        result['plans'].append(data)
    return result


def task_resync(database):
    from . import status
    with connection(database) as conn:
        cursor = conn.cursor()
        config = status.configuration(cursor)
        if not config or config['role'] != 'secondary':
            raise CommandError('this instance is not a secondary')
        plan = translation.plan_copy_all(cursor, config['schema'])
        if not plan.ok:
            raise CommandError('; '.join(str(r) for r in plan.refusals))
        copied = (plan.counts or {}).get('translations') or {}
        if copied.get('missing') or copied.get('stale'):
            plan.extend(translation.plan_forget_cached(cursor))
        count = plan.execute(cursor)
        conn.commit()
        return {
            'statements': count,
            'counts': plan.counts,
            'rendered': plan.render(),
            }


TASKS = {
    'describe': task_describe,
    'provision': task_provision,
    'collect': task_collect,
    'plan': task_plan,
    'resync': task_resync,
    }


def worker_main(argv):
    parser = argparse.ArgumentParser(prog='trytond-shared-schema --worker')
    parser.add_argument('task', choices=sorted(TASKS))
    parser.add_argument('-c', '--config')
    parser.add_argument('-d', '--database', required=True)
    options = parser.parse_args(argv)
    kwargs = json.loads(sys.stdin.read() or '{}')
    status = 0
    try:
        from trytond import config
        if options.config:
            if not os.path.isfile(options.config):
                raise CommandError('no configuration file %s'
                    % options.config)
            config.update_etc(options.config)
        result = TASKS[options.task](options.database, **kwargs)
        payload = {'result': result}
    except Exception as exception:
        status = 1
        message = getattr(exception, 'message', None) or str(exception)
        payload = {'error': {
                    'type': type(exception).__name__,
                    'message': message.strip() or type(exception).__name__,
                    'traceback': traceback.format_exc(),
                    }}
    sys.stdout.flush()
    sys.stdout.write('\n' + MARKER + json.dumps(payload, default=str) + '\n')
    sys.stdout.flush()
    return status


if __name__ == '__main__':
    sys.exit(main())
