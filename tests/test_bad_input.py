# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Bad input to the configuration and the wizards.

Each case must fail with a clear error that names what is wrong, and leave
the catalog (schemas, relations with owners and ACLs, role memberships,
ir_model / ir_model_data counts) exactly as it was. The cases run in a few
proteus subprocesses; each takes a snapshot before and after its case.
"""
import pytest
from psycopg import sql

from .safety_env import shared_env

USER_ERROR = 'UserError'

CASES = r'''
import sys
from trytond.modules.shared_schema.tests.harness import Cluster
from trytond.modules.shared_schema.tests.safety_env import snapshot

cluster = Cluster()
dbname = sys.argv[2]
roles = %(roles)r
good = %(good)r
if %(user)r:
    config.set_trytond(dbname, user=%(user)r, config_file=sys.argv[3])

outcomes = {}


def attempt(name, function):
    before = snapshot(cluster, dbname, roles)
    try:
        function()
        outcome = {'type': None, 'error': None}
    except Exception as exception:
        message = getattr(exception, 'message', None)
        outcome = {'type': type(exception).__name__,
            'classes': [c.__name__ for c in type(exception).__mro__],
            'error': str(message if message is not None else exception)}
    outcome['unchanged'] = snapshot(cluster, dbname, roles) == before
    outcomes[name] = outcome


def configure(**values):
    Configuration = Model.get('shared_schema.configuration')
    configuration = Configuration(1)
    for key, value in values.items():
        setattr(configuration, key, value)
    configuration.save()


def reset():
    configure(**good)


def use_models(*names):
    Configuration = Model.get('shared_schema.configuration')
    IrModel = Model.get('ir.model')
    configuration = Configuration(1)
    while configuration.models:
        configuration.models.remove(configuration.models[0])
    for model in IrModel.find([('name', 'in', names)]):
        configuration.models.new(model=model)
    configuration.save()


def wizard(name, **form):
    w = Wizard(name)
    for key, value in form.items():
        setattr(w.form, key, value)
    w.execute('run' if name != 'shared_schema.set_party_prefix' else 'set_')


def config_case(name, **values):
    attempt(name, lambda: configure(**values))
    reset()


def wizard_case(name, wizard_name='shared_schema.setup', form=None,
        **values):
    def run():
        if values:
            configure(**values)
        wizard(wizard_name, **(form or {}))
    attempt(name, run)
    reset()


%(code)s
result = outcomes
'''

PRIMARY_CASES = r'''
reset()
Configuration = Model.get('shared_schema.configuration')
configuration = Configuration(1)
configuration.click('fill_preset')

long_ascii = 'x' * 64
long_utf8 = '\u00e9' * 32
config_case('schema_too_long', schema=long_ascii)
config_case('schema_non_ascii_too_long', schema=long_utf8)
config_case('owner_role_too_long', owner_role='r' * 70)
config_case('instance_name_too_long', instance_name='n' * 64)
config_case('owner_role_nul', owner_role='bad\x00role')
config_case('schema_empty', schema='')
config_case('schema_is_own_schema', schema=%(r1)r)
config_case('primary_schema_is_self', role='secondary',
    primary_schema=%(r1)r)
config_case('primary_schema_is_shared', role='secondary',
    primary_schema='public')
config_case('lock_timeout_zero', lock_timeout=0)
config_case('lock_timeout_huge', lock_timeout=100000)

def model_case(name, model):
    attempt(name, lambda: use_models(model))
    configuration = Configuration(1)
    configuration.click('fill_preset')
model_case('model_res_user', 'res.user')
model_case('model_ir_model', 'ir.model')
model_case('model_shared_schema_instance', 'shared_schema.instance')
model_case('model_without_table', 'party.replace.ask')
model_case('model_not_activated', 'party.vanished')

wizard_case('schema_missing', schema='nosuch')
wizard_case('schema_with_quote', schema='we"ird')
wizard_case('schema_with_semicolon', schema='public; DROP TABLE res_user')
wizard_case('schema_with_space', schema='my schema')
wizard_case('schema_not_in_path', schema=%(odd_schema)r)
wizard_case('owner_role_missing', owner_role='no_such_role_here')
wizard_case('owner_role_with_quote',
    owner_role='g"; DROP ROLE postgres; --')
wizard_case('owner_role_can_login', owner_role=%(r2)r)
wizard_case('owner_role_not_member', owner_role=%(stranger)r)
wizard_case('copy_on_primary', wizard_name='shared_schema.copy_model_data')

def no_models():
    use_models()
    wizard('shared_schema.move_tables')
attempt('no_models', no_models)
configuration = Configuration(1)
configuration.click('fill_preset')

wizard_case('move_on_secondary', wizard_name='shared_schema.move_tables',
    role='secondary', primary_schema=%(r2)r)
wizard_case('grant_on_secondary', wizard_name='shared_schema.grant_access',
    role='secondary', primary_schema=%(r2)r)
'''

SECONDARY_BEFORE_PRIMARY = r'''
reset()
wizard_case('secondary_before_primary')
'''

SET_UP_CASES = r'''
reset()
wizard_case('primary_schema_missing', primary_schema='nosuch')
'''

PREFIX_CASES = r'''
for name, prefix in [('prefix_used', '2-'), ('prefix_of_other', '2'),
        ('other_is_prefix', '2-x'), ('prefix_empty', '')]:
    attempt(name, lambda: wizard('shared_schema.set_party_prefix',
            prefix=prefix))
'''

NON_ADMIN_CASES = r'''
def read_configuration():
    Configuration = Model.get('shared_schema.configuration')
    Configuration(1).schema
attempt('non_admin_configuration', read_configuration)
for name in ['shared_schema.setup', 'shared_schema.move_tables',
        'shared_schema.grant_access', 'shared_schema.copy_model_data',
        'shared_schema.set_party_prefix']:
    attempt('non_admin_' + name.split('.')[1],
        lambda: wizard(name))
'''

CREATE_USER = '''
User = Model.get('res.user')
user = User(login='clerk', name='Clerk')
user.save()
result = user.id
'''

# case: (expected exception type, substrings the message must contain)
EXPECTED = {
    'schema_too_long': (USER_ERROR, ['x' * 64, 'longer than 63 bytes']),
    'schema_non_ascii_too_long': (
        USER_ERROR, ['\u00e9' * 32, 'longer than 63 bytes']),
    'owner_role_too_long': (USER_ERROR, ['r' * 70, 'longer than 63']),
    'instance_name_too_long': (USER_ERROR, ['n' * 64, 'longer than 63']),
    'owner_role_nul': (USER_ERROR, ['NUL']),
    'schema_empty': (USER_ERROR, ['Shared Schema']),
    'schema_is_own_schema': (USER_ERROR, ['{r1}', 'schema of this']),
    'primary_schema_is_self': (USER_ERROR, ['{r1}', 'own schema']),
    'primary_schema_is_shared': (USER_ERROR, ['"public"', 'own schema']),
    'lock_timeout_zero': (USER_ERROR, ['lock timeout', '3600']),
    'lock_timeout_huge': (USER_ERROR, ['lock timeout', '3600']),
    'model_res_user': (USER_ERROR, ['res.user', 'cannot be shared']),
    'model_ir_model': (USER_ERROR, ['ir.model', 'cannot be shared']),
    'model_shared_schema_instance': (
        USER_ERROR, ['shared_schema.instance', 'cannot be shared']),
    'model_without_table': (USER_ERROR, ['party.replace.ask', 'no table']),
    'model_not_activated': (USER_ERROR, ['party.vanished', 'not activated']),
    'schema_missing': (USER_ERROR, ['"nosuch" does not exist',
            'CREATE SCHEMA "nosuch"']),
    'schema_with_quote': (USER_ERROR, ['"we"ird" does not exist',
            'CREATE SCHEMA "we""ird"']),
    'schema_with_semicolon': (USER_ERROR, [
            '"public; DROP TABLE res_user" does not exist',
            'CREATE SCHEMA "public; DROP TABLE res_user"']),
    'schema_with_space': (USER_ERROR, ['"my schema" does not exist']),
    'schema_not_in_path': (USER_ERROR, ['not in the search path',
            '"{odd_schema_sql}"']),
    'owner_role_missing': (USER_ERROR, ['"no_such_role_here" does not exist',
            'CREATE ROLE "no_such_role_here" NOLOGIN']),
    'owner_role_with_quote': (USER_ERROR, [
            '"g"; DROP ROLE postgres; --" does not exist',
            'CREATE ROLE "g""; DROP ROLE postgres; --" NOLOGIN']),
    'owner_role_can_login': (USER_ERROR, ['"{r2}" can log in']),
    'owner_role_not_member': (USER_ERROR, [
            'not a member of the shared owner role "{stranger}"']),
    'copy_on_primary': (USER_ERROR, ['Only a secondary']),
    'no_models': (USER_ERROR, ['Choose the models to share']),
    'move_on_secondary': (USER_ERROR, ['Only the primary']),
    'grant_on_secondary': (USER_ERROR, ['Only the primary']),
    'secondary_before_primary': (USER_ERROR, [
            '(schema "{r1}") has not shared its tables']),
    'primary_schema_missing': (USER_ERROR, [
            '(schema "nosuch") has not shared its tables']),
    'prefix_used': (USER_ERROR, ['"2-" is already used', '{r2}']),
    'prefix_of_other': (USER_ERROR, ['"2" overlaps the prefix "2-"',
            '{r2}']),
    'other_is_prefix': (USER_ERROR, ['"2-x" overlaps the prefix "2-"']),
    'prefix_empty': (USER_ERROR, ['cannot be empty', '{r2}']),
    'non_admin_configuration': ('AccessError', ['not allowed']),
    }
for name in ['setup', 'move_tables', 'grant_access', 'copy_model_data',
        'set_party_prefix']:
    EXPECTED['non_admin_' + name] = ('AccessError', ['not allowed'])


@pytest.fixture(scope='module')
def env(request, tmp_path_factory):
    return shared_env(request, tmp_path_factory)


@pytest.fixture(scope='module')
def outcomes(env):
    "Run every case; return {case: outcome} and the names used"
    cluster = env.cluster
    stranger = cluster.create_role(login=False)
    odd_schema = 'odd"schema; x'
    names = {'r1': env.r1, 'r2': env.r2, 'stranger': stranger,
        'odd_schema': odd_schema, 'odd_schema_sql': 'odd""schema; x'}
    results = {}

    def run(instance, code, user=None, good=None):
        good = good or {'schema': 'public', 'owner_role': env.group,
            'role': 'primary', 'primary_schema': None, 'lock_timeout': 5,
            'instance_name': instance.role}
        roles = [env.r1, env.r2, env.group, env.outsider, stranger]
        results.update(instance.proteus(CASES % {
                    'roles': roles, 'good': good, 'user': user,
                    'code': code % names}))

    dbname, one, two = env.database()
    cluster.create_schema(dbname, odd_schema, owner=env.group)
    # A model row left by a module gone from the instance.
    cluster.execute(dbname, sql.SQL(
            'INSERT INTO {} (name, string, module) '
            "VALUES ('party.vanished', 'Vanished', 'party')").format(
            sql.Identifier(env.r1, 'ir_model')))
    run(one, PRIMARY_CASES)
    run(two, SECONDARY_BEFORE_PRIMARY, good={
            'schema': 'public', 'owner_role': env.group,
            'role': 'secondary', 'primary_schema': env.r1,
            'lock_timeout': 5, 'instance_name': env.r2})

    dbname, one, two = env.cached_full()
    run(two, SET_UP_CASES, good={
            'schema': 'public', 'owner_role': env.group,
            'role': 'secondary', 'primary_schema': env.r1,
            'lock_timeout': 5, 'instance_name': env.r2})
    run(one, PREFIX_CASES)
    one.proteus(CREATE_USER)
    run(one, NON_ADMIN_CASES, user='clerk')
    return results, names


@pytest.mark.parametrize('case', sorted(EXPECTED))
def test_bad_input(outcomes, case):
    results, names = outcomes
    outcome = results[case]
    kind, fragments = EXPECTED[case]
    assert kind in outcome.get('classes', []), outcome
    for fragment in fragments:
        assert fragment.format(**names) in outcome['error'], outcome
    assert 'psycopg' not in outcome['error'], outcome
    assert outcome['unchanged'], outcome


def test_enough_cases():
    assert len(EXPECTED) >= 25


SQLITE_CASES = r'''
outcomes = {}
def attempt(name, function):
    try:
        function()
        outcomes[name] = None
    except Exception as exception:
        outcomes[name] = [
            [c.__name__ for c in type(exception).__mro__],
            str(getattr(exception, 'message', exception))]

def save():
    Configuration = Model.get('shared_schema.configuration')
    configuration = Configuration(1)
    configuration.instance_name = 'lite'
    configuration.owner_role = 'group'
    configuration.save()
attempt('configuration', save)
for name in ['shared_schema.setup', 'shared_schema.move_tables',
        'shared_schema.grant_access', 'shared_schema.copy_model_data']:
    attempt(name, lambda: Wizard(name).execute('run'))
result = outcomes
'''


def test_sqlite(tmp_path):
    "On SQLite the module activates and every step refuses clearly"
    from .harness import Instance

    class Lite(Instance):
        def config_text(self):
            return '[database]\nuri = sqlite://\npath = %s\n' % tmp_path

    class NoCluster:
        def uri_for(self, role):
            return 'sqlite://'
    (tmp_path / 'lite.sqlite').touch()
    lite = Lite(NoCluster(), 'lite', 'lite', tmp_path, 'lite')
    lite.admin('--all')
    lite.admin('-u', 'shared_schema', '--activate-dependencies')
    outcomes = lite.proteus(SQLITE_CASES)
    assert set(outcomes) == {'configuration', 'shared_schema.setup',
        'shared_schema.move_tables', 'shared_schema.grant_access',
        'shared_schema.copy_model_data'}
    for name, outcome in outcomes.items():
        assert outcome is not None, name
        classes, message = outcome
        assert USER_ERROR in classes, (name, outcome)
        assert 'need PostgreSQL' in message and '"sqlite"' in message, (
            name, outcome)
