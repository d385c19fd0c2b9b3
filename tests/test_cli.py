# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The trytond-shared-schema command on three instances of one database.

One primary and two secondaries are provisioned by the command and set up
once for the whole file (that costs a few trytond-admin runs); the tests
then run in order on that database. Two tiny modules, made on the fly,
are found by trytond through a ``trytond.modules`` entry point of a
distribution in a temporary directory put on PYTHONPATH:
``shared_schema_test_records`` creates a record of a shared model (a party
category) and ``shared_schema_test_column`` adds a column to a shared table
(party_party).
"""
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from trytond.modules.shared_schema import demo

from . import harness

RECORDS = 'shared_schema_test_records'
COLUMN = 'shared_schema_test_column'

MODULES = {
    RECORDS: {
        'tryton.cfg': (
            '[tryton]\nversion=8.0.0\ndepends:\n    ir\n    party\n'
            'xml:\n    records.xml\n'),
        '__init__.py': '',
        'records.xml': (
            '<?xml version="1.0"?>\n<tryton>\n<data>\n'
            '<record model="party.category" id="category_extra">\n'
            '<field name="name">Shared schema test category</field>\n'
            '</record>\n</data>\n</tryton>\n'),
        },
    COLUMN: {
        'tryton.cfg': (
            '[tryton]\nversion=8.0.0\ndepends:\n    ir\n    party\n'),
        # An old-style register(): the package is not importable as
        # trytond.modules.<name>, so tryton.cfg cannot name its classes.
        '__init__.py': (
            'from trytond.model import fields\n'
            'from trytond.pool import Pool, PoolMeta\n\n\n'
            'class Party(metaclass=PoolMeta):\n'
            "    __name__ = 'party.party'\n"
            '    shared_schema_test_note = fields.Char("Note")\n\n\n'
            'def register():\n'
            "    Pool.register(Party, module=%r, type_='model')\n"
            % COLUMN),
        },
    }


def write_modules(path):
    "Write the test modules and their entry points under path"
    for name, files in MODULES.items():
        package = path / name
        package.mkdir()
        for filename, text in files.items():
            (package / filename).write_text(text)
        info = path / ('%s-8.0.0.dist-info' % name)
        info.mkdir()
        (info / 'METADATA').write_text(
            'Metadata-Version: 2.1\nName: %s\nVersion: 8.0.0\n' % name)
        (info / 'entry_points.txt').write_text(
            '[trytond.modules]\n%s = %s\n' % (name, name))


class World:
    "The database, its three instances and the command to drive them"

    def __init__(self, cluster, workdir):
        self.cluster = cluster
        self.workdir = workdir
        self.database = harness.unique_name('cli')
        self.instances = [
            harness.Instance(cluster, self.database,
                harness.unique_name(name), workdir / name, name)
            for name in ['primary', 'second', 'third']]
        self.primary, self.second, self.third = self.instances
        self.owner_role = '%s_shared' % self.database
        cluster.adopt_database(self.database)
        for role in [self.owner_role] + [i.role for i in self.instances]:
            cluster.adopt_role(role)

    def command(self, *args, instances=None):
        "Run the command; return the finished process"
        args = list(args)
        configs = []
        for instance in instances or self.instances:
            configs += ['-c', str(instance.config_file)]
        process = subprocess.run(
            [sys.executable, '-m', 'trytond.modules.shared_schema.cli',
                args[0]] + configs + ['-d', self.database] + args[1:],
            capture_output=True, text=True, env=self.primary.env(),
            timeout=900)
        process.output = process.stdout + process.stderr
        return process

    def status(self):
        "Run status --format json; return (exit status, parsed output)"
        process = self.command('status', '--format', 'json')
        assert process.stdout, process.stderr
        return process.returncode, json.loads(
            process.stdout[process.stdout.index('{'):])

    def count(self, query, params=()):
        return self.cluster.count(self.database, query, params)


def problems(report, code=None):
    return [p for p in report['problems'] if code in (None, p['code'])]


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    workdir = tmp_path_factory.mktemp('cli')
    modules = workdir / 'modules'
    modules.mkdir()
    write_modules(modules)
    saved = os.environ.get('PYTHONPATH')
    os.environ['PYTHONPATH'] = os.pathsep.join(
        [str(modules)] + ([saved] if saved else []))
    try:
        with harness.Cluster() as cluster:
            world = World(cluster, workdir)
            admin = ['--admin-uri', harness.superuser_uri()]
            world.provisioned = world.command('provision', *admin)
            assert world.provisioned.returncode == 0, world.provisioned.output
            world.provisioned_again = world.command(
                'provision', '--dry-run', *admin)
            primary, second, third = world.instances

            def init_primary():
                primary.admin('--all', '-u', 'party', 'country',
                    'shared_schema', '--activate-dependencies')
                return primary.proteus(demo.primary_setup_code(
                        world.owner_role, '1-'))

            def init_secondary(instance):
                instance.admin('--all', '-u', 'shared_schema')

            with ThreadPoolExecutor(3) as pool:
                futures = [pool.submit(init_primary)] + [
                    pool.submit(init_secondary, i) for i in [second, third]]
                for future in futures:
                    future.result()
            for instance in [second, third]:
                instance.proteus(demo.secondary_setup_code(
                        world.owner_role, primary.role))
            # The secondaries activate party and country: resynced first
            world.activated = world.command('upgrade', '-u', 'party',
                'country', '--activate-dependencies')
            assert world.activated.returncode == 0, world.activated.output
            second.proteus(demo.party_prefix_code('2-'))
            third.proteus(demo.party_prefix_code('3-'))
            yield world
    finally:
        if saved is None:
            os.environ.pop('PYTHONPATH', None)
        else:
            os.environ['PYTHONPATH'] = saved


def test_provision_setup_upgrade_status(world):
    "Provision, setup, upgrade of party and a clean status"
    output = world.provisioned.output
    assert 'database "%s" created' % world.database in output
    assert world.count(
        'SELECT pg_get_userbyid(datdba)::text FROM pg_database '
        'WHERE datname = %s', (world.database,)) == world.primary.role
    for instance in world.instances:
        assert world.count(
            "SELECT pg_has_role(%s, %s, 'MEMBER')",
            (instance.role, world.owner_role))
        assert world.count(
            'SELECT pg_get_userbyid(nspowner)::text FROM pg_namespace '
            'WHERE nspname = %s', (instance.role,)) == instance.role
    again = world.provisioned_again
    assert again.returncode == 0, again.output
    assert 'Everything is provisioned already.' in again.output
    assert 'CREATE' not in again.stdout

    process = world.command('upgrade', '-u', 'party')
    assert process.returncode == 0, process.output
    report = process.stdout[process.stdout.index('Upgrade report:'):]
    for instance in world.instances:
        assert instance.role in report
    assert report.count(' done') == 3

    code, status = world.status()
    assert code == 0, json.dumps(status['problems'], indent=1)
    sharing_map = world.workdir / 'sharing.dot'
    text = world.command('status', '--map', str(sharing_map))
    assert text.returncode == 0, text.output
    assert 'status: OK' in text.stdout
    assert 'party_party ' in text.stdout
    assert 'public.party_party' in sharing_map.read_text()

    # No shared record was created twice
    assert world.count(
        'SELECT count(*) FROM public.party_address_format') == world.count(
        'SELECT count(*) FROM %s.ir_model_data '
        "WHERE model = 'party.address.format'" % world.primary.role)

    plan = world.command('plan')
    assert plan.returncode == 0, plan.output
    assert 'Every table of the set is already shared' in plan.stdout
    assert 'Copy the model data of the shared models' in plan.stdout


def test_wrong_order_refused(world):
    "A secondary's configuration first is refused before anything runs"
    process = world.command('upgrade', '-u', 'party',
        instances=[world.second, world.primary, world.third])
    assert process.returncode != 0
    assert 'is not the primary' in process.stderr
    assert 'trytond-admin' not in process.stdout


def test_unsynced_secondary_reported_and_fixed(world):
    "After the primary alone is updated, status fails and upgrade fixes it"
    world.primary.admin('-u', RECORDS)
    code, status = world.status()
    assert code == 1
    drifted = {p['instance'] for p in problems(status, 'drift')}
    assert drifted == {world.second.role, world.third.role}

    process = world.command('upgrade', '-u', RECORDS)
    assert process.returncode == 0, process.output
    code, status = world.status()
    assert code == 0, json.dumps(status['problems'], indent=1)
    assert world.count(
        'SELECT count(*) FROM public.party_category WHERE name = %s',
        ('Shared schema test category',)) == 1
    for instance in world.instances:
        assert world.count(
            'SELECT state FROM %s.ir_module WHERE name = %%s'
            % instance.role, (RECORDS,)) == 'activated'


def test_module_on_secondary_only(world):
    "A module adding a column to a shared table on a secondary only"
    world.third.admin('-u', COLUMN)
    code, status = world.status()
    assert code == 1
    found, = problems(status, 'module_not_on_primary')
    assert found['instance'] == world.third.role
    assert COLUMN in found['message']
    assert 'party.party.shared_schema_test_note' in found['message']

    process = world.command('upgrade', '-u', 'party')
    assert process.returncode == 1
    assert 'REFUSED' in process.stdout
    assert '-u %s' % COLUMN in process.stdout
    assert 'trytond-admin -u' not in process.stdout

    # What it says to do works
    process = world.command('upgrade', '-u', COLUMN)
    assert process.returncode == 0, process.output
    code, status = world.status()
    assert code == 0, json.dumps(status['problems'], indent=1)


def test_prefix_collisions():
    "Equal, empty and overlapping party code prefixes are reported"
    from trytond.modules.shared_schema.status import prefix_collisions

    def instances(*prefixes):
        return [{'name': 'i%s' % n, 'party_prefix': p}
            for n, p in enumerate(prefixes)]
    assert prefix_collisions(instances('1-', '2-', '3-')) == []
    assert prefix_collisions(instances('1-', '1-')) == [
        'i0 and i1: same prefix "1-"']
    assert prefix_collisions(instances('1-', None)) == [
        'i0 and i1: an empty prefix']
    assert prefix_collisions(instances('1-', '1-2')) == [
        'i0 and i1: prefix "1-2" starts with "1-"']


def test_evaluate_without_registry():
    "An instance not set up: no registry, not configured, both problems"
    from trytond.modules.shared_schema.status import evaluate
    result = {
        'user': 'alone', 'schema': 'alone', 'search_path': ['alone'],
        'configuration': None, 'shared_schema': 'public',
        'owner_role': 'db_shared', 'modules': [], 'registry': None,
        'shared_model_modules': {}, 'drift': None, 'shared': {
            'tables': [], 'owner_role_exists': False, 'members': [],
            'shadows': [], 'foreign_keys_outside': [], 'cascades': []},
        }
    codes = {p['code'] for p in evaluate([result])['problems']}
    assert codes == {'registry_missing', 'not_configured',
        'owner_role_missing'}
