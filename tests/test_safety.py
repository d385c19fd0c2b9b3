# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Least privilege, faults and idempotence, against a real PostgreSQL.

Each scenario gets a fresh copy of an initialised database (see
safety_env); the instances are driven in subprocesses.
"""
import threading
import time

import psycopg
import pytest
from psycopg import sql

from ..catalog import ForeignKey
from ..plan import Plan, warn_cascades
from .safety_env import shared_env, snapshot, tables_of

USER_ERRORS = {'trytond.exceptions.UserError',
    'trytond.modules.shared_schema.exceptions.SharedSchemaError'}

TIMED_RUN = '''
import time
wizard = Wizard('shared_schema.setup')
wizard.form.party_prefix = '1-'
start = time.monotonic()
try:
    wizard.execute('run')
finally:
    print('elapsed', time.monotonic() - start)
result = wizard.form.report
'''

SECOND_RUNS = '''
reports = {}
for name in %(wizards)r:
    wizard = Wizard(name)
    sql = wizard.form.sql
    wizard.execute('run')
    reports[name] = {'sql': sql, 'report': wizard.form.report}
wizard = Wizard('shared_schema.set_party_prefix')
wizard.form.prefix = %(prefix)r
wizard.execute('set_')
result = reports
'''

DELETE_PARTY = '''
Party = Model.get('party.party')
party, = Party.find([('id', '=', %(id)s)])
party.delete()
result = True
'''

CREATE_PARTY = '''
Party = Model.get('party.party')
party = Party(name=%(name)r)
party.addresses[0].city = 'Namur'
party.save()
result = [party.id, party.code]
'''


@pytest.fixture(scope='module')
def env(request, tmp_path_factory):
    return shared_env(request, tmp_path_factory)


@pytest.fixture(scope='module')
def full(env):
    "A database whose primary (1-) and secondary (2-) are set up"
    return env.cached_full()


def denied(instance, query):
    "Whether instance's role gets 'permission denied' running query"
    with instance.connect() as conn:
        try:
            conn.execute(query)
        except psycopg.errors.InsufficientPrivilege:
            return True
    return False


def test_second_runs_change_nothing(env, full):
    "Every wizard run again on set up instances changes nothing"
    dbname, one, two = full
    before = snapshot(env.cluster, dbname)
    primary = one.proteus(SECOND_RUNS % {
            'wizards': ['shared_schema.setup', 'shared_schema.move_tables',
                'shared_schema.grant_access'],
            'prefix': '1-'})
    assert snapshot(env.cluster, dbname) == before
    secondary = two.proteus(SECOND_RUNS % {
            'wizards': ['shared_schema.setup',
                'shared_schema.copy_model_data'],
            'prefix': '2-'})
    assert snapshot(env.cluster, dbname) == before
    for name, run in list(primary.items()) + list(secondary.items()):
        assert run['sql'] == '-- Nothing to do.', (name, run['sql'])
        if name == 'shared_schema.copy_model_data':
            assert run['report'].startswith('Model data copied from the '
                'primary: 0 rows copied, 0 stale rows removed, 0 models '
                'created.'), run
        else:
            assert run['report'].startswith('0 statements run'), (
                name, run)


def test_privileges(env, full):
    dbname, one, two = full
    cluster = env.cluster
    shared = tables_of(cluster, dbname, 'public')
    assert {'party_party', 'country_country', 'shared_schema_instance'} <= (
        shared)
    # Nothing shared is granted to PUBLIC: tables, views, sequences.
    assert cluster.execute(dbname,
        'SELECT c.relname, a.privilege_type FROM pg_class c '
        'JOIN pg_namespace n ON n.oid = c.relnamespace, '
        'aclexplode(c.relacl) a '
        "WHERE n.nspname = 'public' AND a.grantee = 0") == []
    # No role but the owner of public and the shared owner role may
    # create in the shared schema.
    creators = {r for r, in cluster.execute(dbname,
            "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' "
            'ELSE pg_get_userbyid(a.grantee) END '
            'FROM pg_namespace n, aclexplode(n.nspacl) a '
            "WHERE n.nspname = 'public' AND a.privilege_type = 'CREATE'")}
    assert creators == {'pg_database_owner', env.group}
    # Every shared table and sequence belongs to the shared owner role;
    # the views belong to the primary's role (they read its private
    # schema with their owner's rights) and only the group may read them.
    owners = dict(cluster.execute(dbname,
            'SELECT c.relkind::text, '
            'string_agg(DISTINCT pg_get_userbyid(c.relowner), \',\') '
            'FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace '
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'S') "
            'GROUP BY 1'))
    assert owners == {'r': env.group, 'S': env.group, 'v': env.r1}, owners
    readers = {r for r, in cluster.execute(dbname,
            'SELECT DISTINCT pg_get_userbyid(a.grantee) FROM pg_class c '
            'JOIN pg_namespace n ON n.oid = c.relnamespace, '
            'aclexplode(c.relacl) a '
            "WHERE n.nspname = 'public' AND c.relkind = 'v' "
            'AND a.grantee <> c.relowner')}
    assert readers == {env.group}, readers

    outsider = type(one)(cluster, dbname, env.outsider, one.workdir,
        'outsider')
    for relation in ['party_party', 'party_address', 'country_country',
            'shared_schema_instance', 'shared_schema_primary_model',
            'shared_schema_primary_model_data']:
        assert denied(outsider, 'SELECT * FROM public.%s' % relation), (
            relation)
    for schema in [env.r1, env.r2]:
        assert denied(outsider, sql.SQL('SELECT * FROM {}').format(
                sql.Identifier(schema, 'res_user')))
    # The secondary reads nothing of the primary's schema but the views.
    for table in ['ir_model_data', 'res_user', 'ir_model',
            'shared_schema_configuration', 'ir_translation']:
        assert denied(two, sql.SQL('SELECT * FROM {}').format(
                sql.Identifier(env.r1, table))), table
        assert denied(one, sql.SQL('SELECT * FROM {}').format(
                sql.Identifier(env.r2, table))), table
    rows = two.execute(
        'SELECT count(*) FROM public.shared_schema_primary_model_data')
    assert rows[0][0] > 0
    assert two.execute('SELECT count(*) FROM public.party_party')


def test_index_recreated_by_secondary_update(env, full):
    "The secondary's update runs the DDL of a shared table (owner group)"
    dbname, one, two = full
    cluster = env.cluster
    indexes = cluster.execute(dbname,
        'SELECT i.relname FROM pg_index x '
        'JOIN pg_class i ON i.oid = x.indexrelid '
        'JOIN pg_class t ON t.oid = x.indrelid '
        'JOIN pg_namespace n ON n.oid = t.relnamespace '
        "WHERE n.nspname = 'public' AND t.relname = 'party_party' "
        'AND NOT x.indisprimary AND NOT x.indisunique ORDER BY 1')
    assert indexes
    name = indexes[0][0]
    cluster.execute(dbname, sql.SQL('DROP INDEX {}').format(
            sql.Identifier('public', name)))
    two.admin('-u', 'party')
    assert cluster.execute(dbname,
        "SELECT pg_get_userbyid(c.relowner) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relname = %s", (name,)) == [
        (env.group,)]


def test_cross_instance_delete(env, full):
    "A RESTRICT reference from another instance gives a clear UserError"
    dbname, one, two = full
    party_id, code = one.proteus(CREATE_PARTY % {'name': 'Referenced'})
    assert code.startswith('1-')
    table = 'private_note'
    two.execute(sql.SQL(
            'CREATE TABLE {} (id serial PRIMARY KEY, party integer NOT NULL '
            'REFERENCES public.party_party (id) ON DELETE RESTRICT)').format(
            sql.Identifier(env.r2, table)))
    try:
        two.execute(sql.SQL('INSERT INTO {} (party) VALUES (%s)').format(
                sql.Identifier(env.r2, table)), (party_id,))
        error = one.proteus(DELETE_PARTY % {'id': party_id}, check=False)
        assert error.child_type in USER_ERRORS, error
        assert env.r2 in error.child_error  # the instance name
        assert '%s.%s' % (env.r2, table) in error.child_error
        assert 'party.party' in error.child_error
        assert 'violates foreign key' not in error.child_error
        assert env.cluster.count(dbname,
            'SELECT count(*) FROM public.party_party WHERE id = %s',
            (party_id,)) == 1
        # Once the reference is gone, the deletion goes through.
        two.execute(sql.SQL('DELETE FROM {}').format(
                sql.Identifier(env.r2, table)))
        assert one.proteus(DELETE_PARTY % {'id': party_id})
    finally:
        two.execute(sql.SQL('DROP TABLE IF EXISTS {}').format(
                sql.Identifier(env.r2, table)))


def hold(env, dbname, query):
    "A superuser connection in a transaction that ran query"
    conn = psycopg.connect(**env.cluster.conninfo(
            env.cluster.params['user'], dbname))
    conn.execute(query)
    return conn


def test_lock_timeout(env):
    "The move gives up after its lock timeout; nothing has moved"
    dbname, one, two = env.database()
    env.configure(one, preset=True, lock_timeout=1)
    cluster = env.cluster
    before = snapshot(cluster, dbname)
    for query in [
            sql.SQL('LOCK TABLE {} IN ACCESS SHARE MODE').format(
                sql.Identifier(env.r1, 'country_country')),
            sql.SQL('SELECT count(*) FROM {}').format(
                sql.Identifier(env.r1, 'party_party')),
            ]:
        conn = hold(env, dbname, query)
        try:
            start = time.monotonic()
            error = one.proteus(TIMED_RUN, check=False)
            elapsed = time.monotonic() - start
        finally:
            conn.rollback()
            conn.close()
        assert error.child_type in USER_ERRORS, error
        assert 'lock timeout (1s)' in error.child_error
        assert 'ALTER TABLE' in error.child_error
        waited = [float(l.split()[1])
            for l in one.last_process.stdout.splitlines()
            if l.startswith('elapsed')]
        assert waited and waited[0] < 4, (waited, elapsed)
        assert snapshot(cluster, dbname) == before
    assert 'party_party' not in tables_of(cluster, dbname, 'public')
    # The same move succeeds once the lock is gone.
    assert 'registered as primary' in one.proteus(TIMED_RUN)
    assert {'party_party', 'country_country'} <= tables_of(
        cluster, dbname, 'public')
    assert 'party_party' not in tables_of(cluster, dbname, env.r1)


def test_terminated_move(env):
    "The backend of the move is terminated while it waits: nothing is done"
    dbname, one, two = env.database()
    env.configure(one, preset=True, lock_timeout=120)
    cluster = env.cluster
    before = snapshot(cluster, dbname)
    conn = hold(env, dbname, sql.SQL('LOCK TABLE {} IN ACCESS SHARE MODE')
        .format(sql.Identifier(env.r1, 'party_party')))
    outcome = {}

    def run():
        outcome['result'] = one.proteus(TIMED_RUN, check=False)
    thread = threading.Thread(target=run)
    thread.start()
    try:
        pid = None
        deadline = time.monotonic() + 120
        while pid is None and time.monotonic() < deadline:
            rows = cluster.execute(dbname,
                'SELECT pid, query FROM pg_stat_activity '
                "WHERE datname = %s AND usename = %s "
                "AND wait_event_type = 'Lock'", (dbname, env.r1))
            if rows:
                pid, query = rows[0]
                assert 'ALTER TABLE' in query, query
            else:
                time.sleep(0.2)
        assert pid, 'the move never waited for the lock'
        # Some statements of the plan already ran in its transaction.
        assert cluster.count('postgres',
            'SELECT pg_terminate_backend(%s)', (pid,))
    finally:
        conn.rollback()
        conn.close()
        thread.join(300)
    error = outcome['result']
    assert isinstance(error, AssertionError), error
    assert snapshot(cluster, dbname) == before
    # Running again completes.
    one.proteus(TIMED_RUN)
    assert {'party_party', 'shared_schema_instance'} <= tables_of(
        cluster, dbname, 'public')


def test_shadow_tables_refused(env):
    "A private table named like a shared one stops the set-up, named"
    dbname, one, two = env.database()
    cluster = env.cluster
    env.configure(one, preset=True)
    # In another instance's schema, before the primary moves.
    cluster.execute(dbname, sql.SQL('CREATE TABLE {} (id integer)').format(
            sql.Identifier(env.r2, 'party_party')))
    before = snapshot(cluster, dbname)
    error = env.wizard(one, prefix='1-', check=False)
    assert error.child_type in USER_ERRORS, error
    assert '%s.party_party' % env.r2 in error.child_error
    assert 'hide' in error.child_error
    assert snapshot(cluster, dbname) == before
    cluster.execute(dbname, sql.SQL('DROP TABLE {}').format(
            sql.Identifier(env.r2, 'party_party')))
    analysis = env.wizard(one, prefix='1-')['analysis']
    # The cascading private tables point at ir_lang: not proposed.
    assert 'cannot be shared' in analysis, analysis
    assert 'party_party_lang -> ir_lang' in analysis, analysis
    assert 'also share' not in analysis, analysis

    # In the secondary's own schema, before its set-up.
    env.configure(two, role='secondary', primary_schema=env.r1)
    two.execute(sql.SQL('CREATE TABLE {} (id integer)').format(
            sql.Identifier(env.r2, 'country_country')))
    before = snapshot(cluster, dbname)
    error = env.wizard(two, check=False)
    assert error.child_type in USER_ERRORS, error
    assert '%s.country_country' % env.r2 in error.child_error
    assert snapshot(cluster, dbname) == before


def test_cascade_proposal():
    "Only the cascading tables that could be shared are proposed"
    def fk(table, target, schema='one', target_schema='public',
            on_delete='CASCADE'):
        return ForeignKey('%s_fk' % table, schema, table, ('x',),
            target_schema, target, on_delete)
    cascades = [fk('party_party_lang', 'party_party'),
        fk('party_identifier', 'party_party')]
    fks = cascades + [
        fk('party_party_lang', 'ir_lang', target_schema='one',
            on_delete='RESTRICT'),
        fk('party_identifier', 'country_country', on_delete='RESTRICT'),
        ]
    plan = Plan('test')
    proposable, blocked = warn_cascades(plan, fks, cascades,
        {'party_party': 'party.party', 'country_country': 'country.country'},
        'public', 'one', {'party_identifier': 'party.identifier'})
    assert proposable == ['party_identifier']
    assert blocked == {'party_party_lang': ['ir_lang']}
    codes = [w.code for w in plan.warnings]
    assert codes == ['cascade_from_private', 'cascade_not_shareable']
    assert 'also share: party.identifier.' in str(plan.warnings[0])
    assert 'party_party_lang -> ir_lang' in str(plan.warnings[1])
    assert 'party_identifier' not in str(plan.warnings[1])
