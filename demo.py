# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Two Tryton instances sharing parties and countries, from scratch.

Run ``python -m trytond.modules.shared_schema.demo`` (``./run demo``) with
the PostgreSQL server given by PGHOST, PGPORT, PGUSER (PGPASSWORD) as a
superuser. It provisions a new database with two instances through
``trytond-shared-schema provision``, sets up the primary and the secondary
(trytond-admin and the setup wizard through proteus, each instance in its
own process), gives them the party code prefixes 1- and 2-, creates a
party on each, shows each party seen from the other instance, lists the
shared tables and prints ``trytond-shared-schema status``. Then it drops
the database and roles it created, unless ``--keep`` is given.
"""
import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from .cli import trytond_admin_command

ADMIN_EMAIL = 'admin@example.com'
ADMIN_PASSWORD = 'admin'
COMMAND = [sys.executable, '-m', 'trytond.modules.shared_schema.cli']
THIS = 'trytond.modules.shared_schema.demo'


def primary_setup_code(owner_role, prefix):
    """proteus code that sets up the primary with the parties preset

    The configuration is written through the RPC write: proteus does not
    save a singleton whose values equal its defaults, and the preset needs
    its row."""
    return (
        "Configuration = Model.get('shared_schema.configuration')\n"
        "Configuration._proxy.write([1], {'role': 'primary', "
        "'owner_role': %r}, {})\n"
        "Configuration(1).click('fill_preset')\n"
        "setup = Wizard('shared_schema.setup')\n"
        "setup.form.party_prefix = %r\n"
        "setup.execute('run')\n"
        "result = setup.form.report\n" % (owner_role, prefix))


def secondary_setup_code(owner_role, primary_schema):
    "proteus code that sets up a secondary of primary_schema"
    return (
        "Configuration = Model.get('shared_schema.configuration')\n"
        "Configuration._proxy.write([1], {'role': 'secondary', "
        "'owner_role': %r, 'primary_schema': %r}, {})\n"
        "setup = Wizard('shared_schema.setup')\n"
        "setup.execute('run')\n"
        "result = setup.form.report\n" % (owner_role, primary_schema))


def party_prefix_code(prefix):
    "proteus code that sets the party code prefix of the instance"
    return (
        "prefix = Wizard('shared_schema.set_party_prefix')\n"
        "prefix.form.prefix = %r\n"
        "prefix.execute('set_')\n"
        "result = %r\n" % (prefix, prefix))


def create_party_code(name):
    return (
        "Party = Model.get('party.party')\n"
        "party = Party(name=%r)\n"
        "party.save()\n"
        "result = party.code\n" % name)


def find_parties_code(names):
    return (
        "Party = Model.get('party.party')\n"
        "result = [[p.name, p.code] for p in Party.find("
        "[('name', 'in', %r)])]\n" % (list(names),))


_PROTEUS_CHILD = r'''
import json
import sys
import traceback


def main():
    marker, database, config_file = sys.argv[1:4]
    code = sys.stdin.read()
    try:
        from proteus import Model, Wizard, config
        config.set_trytond(database, config_file=config_file)
        namespace = {'config': config, 'Model': Model, 'Wizard': Wizard,
            'result': None}
        exec(compile(code, '<proteus code>', 'exec'), namespace)
        line = json.dumps({'result': namespace['result']}, default=str)
        status = 0
    except BaseException as exception:
        message = getattr(exception, 'message', None) or str(exception)
        line = json.dumps({'error': {'message': message,
                    'traceback': traceback.format_exc()}})
        status = 1
    sys.stdout.write('\n' + marker + line + '\n')
    return status


sys.exit(main())
'''


class DemoError(Exception):
    pass


def server_params():
    return {
        'host': os.environ.get('PGHOST') or '127.0.0.1',
        'port': os.environ.get('PGPORT') or '5432',
        'user': os.environ.get('PGUSER') or 'postgres',
        }


def instance_uri(role):
    "The trytond database URI of role on the server of the environment"
    params = server_params()
    host = params['host']
    if host.startswith('/'):
        return 'postgresql://%s@/?host=%s&port=%s' % (
            quote(role, safe=''), quote(host, safe='/'), params['port'])
    if ':' in host:
        host = '[%s]' % host
    return 'postgresql://%s@%s:%s/' % (quote(role, safe=''), host,
        params['port'])


def unique_suffix():
    return '%d_%s' % (os.getpid(), secrets.token_hex(3))


class Demo:

    def __init__(self, workdir, verbose=False):
        self.workdir = Path(workdir)
        suffix = unique_suffix()
        self.database = 'shared_schema_demo_%s' % suffix
        self.roles = ['demo_one_%s' % suffix, 'demo_two_%s' % suffix]
        self.owner_role = '%s_shared' % self.database
        self.verbose = verbose
        self.passfile = self.workdir / 'admin.pass'
        self.passfile.write_text(ADMIN_PASSWORD + '\n')
        self.configs = []
        for role in self.roles:
            path = self.workdir / ('%s.conf' % role)
            path.write_text('[database]\nuri = %s\n' % instance_uri(role))
            self.configs.append(str(path))

    def env(self):
        env = os.environ.copy()
        for key in ['TRYTOND_CONFIG', 'TRYTOND_DATABASE_URI',
                'TRYTOND_DATABASE__URI']:
            env.pop(key, None)
        env['TRYTONPASSFILE'] = str(self.passfile)
        return env

    def step(self, text):
        print('==> %s' % text, flush=True)

    def run(self, command, check=True, show=False):
        start = time.monotonic()
        process = subprocess.run(command, capture_output=True, text=True,
            env=self.env(), stdin=subprocess.DEVNULL)
        if show or self.verbose:
            sys.stdout.write(process.stdout)
        if self.verbose:
            sys.stdout.write(process.stderr)
        if check and process.returncode:
            raise DemoError('%s failed (exit %s):\n%s\n%s' % (
                    ' '.join(command[:6]), process.returncode,
                    process.stdout[-3000:], process.stderr[-3000:]))
        print('    (%.1f s)' % (time.monotonic() - start), flush=True)
        return process

    def command(self, *args, check=True, show=True):
        args = list(args)
        sub, rest = args[0], args[1:]
        configs = []
        for config in self.configs:
            configs += ['-c', config]
        return self.run(COMMAND + [sub] + configs + ['-d', self.database]
            + rest, check=check, show=show)

    def admin(self, index, *args):
        args = list(args)
        if '--all' in args:
            args += ['--email', ADMIN_EMAIL]
        return self.run(trytond_admin_command() + [
                '-c', self.configs[index], '-d', self.database] + args)

    def proteus(self, index, code):
        marker = '@@demo-%s@@' % secrets.token_hex(6)
        process = subprocess.run(
            [sys.executable, '-c', _PROTEUS_CHILD, marker, self.database,
                self.configs[index]],
            input=code, capture_output=True, text=True, env=self.env())
        for line in reversed(process.stdout.splitlines()):
            if line.startswith(marker):
                payload = json.loads(line[len(marker):])
                break
        else:
            raise DemoError('proteus gave no result:\n%s'
                % process.stderr[-3000:])
        if 'error' in payload:
            raise DemoError('proteus failed on %s: %s\n%s' % (
                    self.roles[index], payload['error']['message'],
                    payload['error']['traceback']))
        return payload['result']

    def shared_tables(self):
        "The tables of the public schema, read by the primary's role"
        process = self.run([sys.executable, '-m', THIS, '--tables',
                self.configs[0], self.database], show=False)
        return json.loads(process.stdout.strip().splitlines()[-1])

    def teardown(self):
        self.step('drop database %s and roles %s, %s' % (
                self.database, ', '.join(self.roles), self.owner_role))
        self.run([sys.executable, '-m', THIS, '--teardown', self.database]
            + self.roles + [self.owner_role], check=False, show=True)

    def main(self):
        one, two = self.roles
        self.step('provision database %s with instances %s (primary) and '
            '%s' % (self.database, one, two))
        self.command('provision')
        self.step('%s: create the database tables and activate party, '
            'country, shared_schema' % one)
        self.admin(0, '--all', '-u', 'party', 'country', 'shared_schema',
            '--activate-dependencies')
        self.step('%s: fill the parties preset and run the setup wizard '
            '(prefix 1-)' % one)
        print(self.proteus(0, primary_setup_code(self.owner_role, '1-')))
        self.step('%s: create the database tables, activate shared_schema'
            % two)
        self.admin(1, '--all', '-u', 'shared_schema')
        self.step('%s: set up as a secondary of %s' % (two, one))
        print(self.proteus(1, secondary_setup_code(self.owner_role, one)))
        self.step('%s: activate party and country (model data resynced '
            'first by the command)' % two)
        self.command('upgrade', '-u', 'party', 'country',
            '--activate-dependencies', show=self.verbose)
        self.step('%s: set the party code prefix 2-' % two)
        self.proteus(1, party_prefix_code('2-'))
        names = ['Party of %s' % one, 'Party of %s' % two]
        for index, name in enumerate(names):
            self.step('%s: create party "%s"' % (self.roles[index], name))
            print('    code %s' % self.proteus(index, create_party_code(name)))
        for index, role in enumerate(self.roles):
            self.step('parties seen from %s' % role)
            for name, code in self.proteus(index, find_parties_code(names)):
                print('    %s  %s' % (code, name))
        self.step('tables in schema public (the shared tables)')
        for table, owner in self.shared_tables():
            print('    %-45s owner %s' % (table, owner))
        self.step('trytond-shared-schema status')
        return self.command('status', check=False).returncode


def print_tables(config, database):
    "Child: print the tables of schema public as JSON"
    from trytond import config as tconfig

    from .cli import connection
    tconfig.update_etc(config)
    with connection(database) as conn:
        cursor = conn.cursor()
        cursor.execute("SELECT tablename, tableowner FROM pg_tables "
            "WHERE schemaname = 'public' ORDER BY tablename")
        print(json.dumps([list(r) for r in cursor]))


def teardown(database, roles):
    "Child: drop database and roles with the administrator connection"
    from .cli import connection
    from .provision import plan_teardown
    with connection(None, autocommit=True) as conn:
        for plan in plan_teardown(conn.cursor(), database, roles):
            if plan.statements:
                plan.execute(conn.cursor())
            print(plan.render_sql())


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ['--tables']:
        return print_tables(*argv[1:3])
    if argv[:1] == ['--teardown']:
        from trytond import config
        config.set('database', 'uri', 'postgresql:///')
        return teardown(argv[1], argv[2:])
    parser = argparse.ArgumentParser(prog='python -m ' + THIS,
        description=__doc__.split('\n\n')[0])
    parser.add_argument('--keep', action='store_true',
        help='keep the database, roles and configuration files')
    parser.add_argument('-v', '--verbose', action='store_true')
    options = parser.parse_args(argv)
    workdir = tempfile.mkdtemp(prefix='shared_schema_demo_')
    demo = Demo(workdir, options.verbose)
    status = 1
    try:
        status = demo.main()
    except DemoError as exception:
        print('demo failed: %s' % exception, file=sys.stderr)
    finally:
        if options.keep:
            print('Kept database %s; configurations in %s' % (
                    demo.database, workdir))
        else:
            demo.teardown()
            shutil.rmtree(workdir, ignore_errors=True)
    return status


if __name__ == '__main__':
    sys.exit(main())
