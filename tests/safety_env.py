# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Two instances on one database for the safety, bad input and concurrency
tests, and a snapshot of what the catalog holds.

The database administrator's part is done as the superuser of the harness:
two login roles (one schema each), an outsider login role that is not an
instance, and the NOLOGIN shared owner role with both instances as members.
The initialised databases are kept as templates so that each scenario gets
a fresh copy in a second instead of running trytond-admin again.
"""
import json

from psycopg import sql

from .harness import Cluster, Instance, unique_name

CONFIGURE = '''
Configuration = Model.get('shared_schema.configuration')
configuration = Configuration(1)
for name, value in %(values)r.items():
    setattr(configuration, name, value)
configuration.save()
if %(preset)r:
    configuration.click('fill_preset')
result = True
'''

RUN_WIZARD = '''
wizard = Wizard(%(name)r)
preview = {'analysis': wizard.form.analysis, 'sql': wizard.form.sql}
prefix = %(prefix)r
if prefix is not None:
    wizard.form.party_prefix = prefix
wizard.execute('run')
result = dict(preview, report=wizard.form.report)
'''

SET_PREFIX = '''
wizard = Wizard('shared_schema.set_party_prefix')
wizard.form.prefix = %(prefix)r
wizard.execute('set_')
result = True
'''


def snapshot(cluster, dbname, roles=None):
    """What a change could touch: schemas, relations (tables, views,
    sequences, indexes) with owners and ACLs, memberships of the roles and
    the ir_model / ir_model_data counts of every schema"""
    result = {}
    result['schemas'] = cluster.execute(dbname,
        'SELECT nspname, pg_get_userbyid(nspowner), '
        'coalesce(nspacl::text, \'\') FROM pg_namespace '
        "WHERE nspname NOT LIKE 'pg\\_%%' "
        "AND nspname <> 'information_schema' ORDER BY 1")
    result['relations'] = cluster.execute(dbname,
        'SELECT n.nspname, c.relname, c.relkind, '
        'pg_get_userbyid(c.relowner), coalesce(c.relacl::text, \'\') '
        'FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace '
        "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'i') "
        "AND n.nspname NOT LIKE 'pg\\_%%' "
        "AND n.nspname <> 'information_schema' ORDER BY 1, 2")
    result['members'] = cluster.execute(dbname,
        'SELECT g.rolname, m.rolname FROM pg_auth_members a '
        'JOIN pg_roles g ON g.oid = a.roleid '
        'JOIN pg_roles m ON m.oid = a.member '
        'WHERE g.rolname = ANY(%s) OR m.rolname = ANY(%s) ORDER BY 1, 2',
        (list(roles or cluster.roles), list(roles or cluster.roles)))
    counts = []
    for schema, table in cluster.execute(dbname,
            'SELECT schemaname, tablename FROM pg_tables '
            "WHERE tablename IN ('ir_model', 'ir_model_data') "
            'ORDER BY 1, 2'):
        counts.append((schema, table, cluster.count(dbname,
                    sql.SQL('SELECT count(*) FROM {}').format(
                        sql.Identifier(schema, table)))))
    result['counts'] = counts
    return json.loads(json.dumps(result, default=str))


def tables_of(cluster, dbname, schema):
    return {t for t, in cluster.execute(dbname,
            'SELECT tablename FROM pg_tables WHERE schemaname = %s',
            (schema,))}


class Env:
    """Roles and templates once; databases copied from the templates.

    Stages of the templates: 'primary' (the primary has party, country and
    shared_schema activated, nothing shared), 'both' (and the secondary has
    shared_schema activated, nothing shared)."""

    def __init__(self, workdir, cluster=None):
        self.cluster = cluster or Cluster()
        self.workdir = workdir
        c = self.cluster
        self.r1 = c.create_role(unique_name('ss_one'))
        self.r2 = c.create_role(unique_name('ss_two'))
        self.outsider = c.create_role(unique_name('ss_outsider'))
        self.group = c.create_role(unique_name('ss_group'), login=False)
        c.grant_role(self.group, self.r1)
        c.grant_role(self.group, self.r2)
        self.templates = {}

    def close(self):
        return self.cluster.cleanup()

    def _new_database(self, template=None):
        name = unique_name('ss_db')
        query = sql.SQL('CREATE DATABASE {} OWNER {}').format(
            sql.Identifier(name), sql.Identifier(self.r1))
        if template:
            query += sql.SQL(' TEMPLATE {}').format(sql.Identifier(template))
        else:
            query += sql.SQL(" TEMPLATE template0 ENCODING 'UTF8'")
        self.cluster.execute('postgres', query)
        self.cluster.databases.append(name)
        return name

    def instances(self, dbname):
        one = Instance(self.cluster, dbname, self.r1,
            self.workdir / dbname, 'one')
        two = Instance(self.cluster, dbname, self.r2,
            self.workdir / dbname, 'two')
        return one, two

    def template(self, stage='both', extra_modules=()):
        "The name of the template database of stage"
        key = (stage, tuple(extra_modules))
        if key in self.templates:
            return self.templates[key]
        dbname = self._new_database()
        for role in [self.r1, self.r2]:
            self.cluster.create_schema(dbname, role, owner=role)
        one, two = self.instances(dbname)
        one.init(['party', 'country', 'shared_schema'] + list(extra_modules))
        if stage == 'both':
            two.init(['shared_schema'])
        self.cluster._close(dbname)
        self.templates[key] = dbname
        return dbname

    def database(self, stage='both', extra_modules=()):
        "A fresh copy of the template of stage, with its instances"
        template = self.template(stage, extra_modules)
        self.cluster._close(template)
        dbname = self._new_database(template)
        return (dbname,) + self.instances(dbname)

    def configure(self, instance, preset=False, **values):
        values.setdefault('owner_role', self.group)
        return instance.proteus(CONFIGURE % {
                'values': values, 'preset': preset})

    def wizard(self, instance, name='shared_schema.setup', prefix=None,
            check=True):
        return instance.proteus(RUN_WIZARD % {
                'name': name, 'prefix': prefix}, check=check)

    def set_prefix(self, instance, prefix, check=True):
        return instance.proteus(SET_PREFIX % {'prefix': prefix},
            check=check)

    def setup_primary(self, one, prefix='1-', **values):
        self.configure(one, preset=True, lock_timeout=values.pop(
                'lock_timeout', 5), **values)
        return self.wizard(one, prefix=prefix)

    def setup_secondary(self, two, prefix='2-'):
        self.configure(two, role='secondary', primary_schema=self.r1)
        result = self.wizard(two)
        two.admin('-u', 'party', 'country', '--activate-dependencies')
        if prefix is not None:
            self.set_prefix(two, prefix)
        return result

    def cached_full(self):
        "The database of full(), made once for the session"
        if 'full' not in self.templates:
            self.templates['full'] = self.full()
        return self.templates['full']

    def full(self):
        "A database whose primary and secondary are set up (1-, 2-)"
        dbname, one, two = self.database('both')
        self.setup_primary(one)
        self.setup_secondary(two)
        return dbname, one, two


def shared_env(request, tmp_path_factory):
    """The Env of the test session: built by the first test module that
    asks for it, dropped when the session ends"""
    config = request.config
    env = getattr(config, '_shared_schema_safety_env', None)
    if env is None:
        env = Env(tmp_path_factory.mktemp('safety'))
        config._shared_schema_safety_env = env

        def close():
            errors = env.close()
            if errors:
                raise AssertionError('\n'.join(errors))
        config.add_cleanup(close)
    return env
