# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Two Tryton instances on one PostgreSQL database, end to end.

The test plays the database administrator (two login roles, a schema each,
the NOLOGIN shared owner role with both as members) and then drives each
instance in its own processes, as an administrator would: trytond-admin and
the module's wizards through proteus.
"""
import pytest

from .harness import ChildError, Cluster, Instance, unique_name

HOWTO_MODELS = [
    'party.party', 'party.address', 'party.contact_mechanism',
    'country.country', 'country.subdivision', 'country.postal_code',
    ]

CONFIGURE = '''
Configuration = Model.get('shared_schema.configuration')
configuration = Configuration(1)
configuration.owner_role = %(owner)r
configuration.role = %(role)r
if %(primary)r:
    configuration.primary_schema = %(primary)r
configuration.save()
result = True
'''

USE_MODELS = '''
Configuration = Model.get('shared_schema.configuration')
Line = Model.get('shared_schema.model')
IrModel = Model.get('ir.model')
Line.delete(Line.find([]))
configuration = Configuration(1)
for model in IrModel.find([('name', 'in', %(models)r)]):
    line = configuration.models.new()
    line.model = model
configuration.save()
result = True
'''

RUN_WIZARD = '''
wizard = Wizard(%(name)r)
preview = {'analysis': wizard.form.analysis, 'sql': wizard.form.sql}
%(before)s
wizard.execute('run')
result = dict(preview, report=wizard.form.report)
'''

SET_PREFIX = '''
wizard = Wizard('shared_schema.set_party_prefix')
wizard.form.prefix = %(prefix)r
wizard.execute('set_')
result = True
'''

CREATE_PARTY = '''
Party = Model.get('party.party')
party = Party(name=%(name)r)
address, = party.addresses
address.city = 'Liège'
party.save()
result = [party.code, sorted(p.name for p in Party.find([]))]
'''


def shared_tables(cluster, dbname, schema):
    return {t for t, in cluster.execute(dbname,
            'SELECT tablename FROM pg_tables WHERE schemaname = %s',
            (schema,))}


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    "The database, roles and both instances; initialised once"
    with Cluster() as cluster:
        primary_role = cluster.create_role(unique_name('ss_primary'))
        secondary_role = cluster.create_role(unique_name('ss_secondary'))
        outsider = cluster.create_role(unique_name('ss_outsider'))
        owner = cluster.create_role(unique_name('ss_owner'), login=False)
        cluster.grant_role(owner, primary_role)
        cluster.grant_role(owner, secondary_role)
        dbname = cluster.create_database(
            unique_name('ss_e2e'), owner=primary_role)
        cluster.create_schema(dbname, primary_role, owner=primary_role)
        cluster.create_schema(dbname, secondary_role, owner=secondary_role)
        workdir = tmp_path_factory.mktemp('instances')
        primary = Instance(cluster, dbname, primary_role, workdir, 'primary')
        secondary = Instance(
            cluster, dbname, secondary_role, workdir, 'secondary')
        primary.init(['party', 'country', 'shared_schema'])
        secondary.init(['shared_schema'])
        yield {
            'cluster': cluster, 'dbname': dbname, 'owner': owner,
            'outsider': outsider, 'primary': primary,
            'secondary': secondary,
            }


def test_two_instances(setup):
    cluster, dbname = setup['cluster'], setup['dbname']
    primary, secondary = setup['primary'], setup['secondary']
    owner = setup['owner']

    # A secondary set up before its primary is refused and told what to do
    secondary.proteus(CONFIGURE % {
            'owner': owner, 'role': 'secondary', 'primary': primary.role})
    error = secondary.proteus(RUN_WIZARD % {
            'name': 'shared_schema.setup', 'before': ''}, check=False)
    assert isinstance(error, ChildError)
    assert 'has not shared its tables' in error.child_error
    assert 'on the primary first' in error.child_error

    # The recipe's own set is refused because of country_country.region
    primary.proteus(CONFIGURE % {
            'owner': owner, 'role': 'primary', 'primary': None})
    primary.proteus(USE_MODELS % {'models': HOWTO_MODELS})
    error = primary.proteus(RUN_WIZARD % {
            'name': 'shared_schema.move_tables', 'before': ''}, check=False)
    assert isinstance(error, ChildError)
    assert 'country_country.region -> country_region' in error.child_error
    assert 'party_party' not in shared_tables(cluster, dbname, 'public')

    # The preset is accepted; the tables move and belong to the owner role
    primary.proteus(USE_MODELS % {'models': []})
    primary.proteus('''
configuration = Model.get('shared_schema.configuration')(1)
configuration.click('fill_preset')
result = True
''')
    preview = primary.proteus(RUN_WIZARD % {
            'name': 'shared_schema.setup',
            'before': "wizard.form.party_prefix = '1-'"})
    assert 'SET SCHEMA "public"' in preview['sql']
    assert 'registered as primary' in preview['report']
    public = shared_tables(cluster, dbname, 'public')
    for table in ['party_party', 'party_address', 'party_contact_mechanism',
            'party_identifier', 'country_country', 'country_region',
            'country_subdivision', 'country_postal_code',
            'shared_schema_instance']:
        assert table in public
        assert table not in shared_tables(cluster, dbname, primary.role)
    owners = {o for o, in cluster.execute(dbname,
            "SELECT tableowner FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename LIKE 'party%%'")}
    assert owners == {owner}
    assert cluster.count(dbname,
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE c.relkind = 'S' "
        "AND n.nspname = 'public' AND c.relname = 'party_party_id_seq'") == 1

    # Running the move again changes nothing
    again = primary.proteus(RUN_WIZARD % {
            'name': 'shared_schema.move_tables', 'before': ''})
    assert again['sql'] == '-- Nothing to do.'

    # The secondary copies the model data, then activates party and country
    # without duplicating any shared record
    regions = cluster.count(
        dbname, 'SELECT count(*) FROM public.country_region')
    formats = cluster.count(
        dbname, 'SELECT count(*) FROM public.party_address_format')
    assert regions == 33
    result = secondary.proteus(RUN_WIZARD % {
            'name': 'shared_schema.setup', 'before': ''})
    assert 'rows copied' in result['report']
    assert 'registered as secondary' in result['report']
    again = secondary.proteus(RUN_WIZARD % {
            'name': 'shared_schema.copy_model_data', 'before': ''})
    assert again['sql'] == '-- Nothing to do.'
    secondary.admin('-u', 'party', 'country', '--activate-dependencies')
    assert cluster.count(
        dbname, 'SELECT count(*) FROM public.country_region') == regions
    assert cluster.count(
        dbname, 'SELECT count(*) FROM public.party_address_format') == formats
    assert 'party_party' not in shared_tables(
        cluster, dbname, secondary.role)

    # Party code prefixes: 1- is taken by the primary
    error = secondary.proteus(SET_PREFIX % {'prefix': '1-'}, check=False)
    assert isinstance(error, ChildError)
    assert 'already used' in error.child_error
    error = secondary.proteus(SET_PREFIX % {'prefix': '1'}, check=False)
    assert 'overlaps' in error.child_error
    secondary.proteus(SET_PREFIX % {'prefix': '2-'})

    # A party created on each instance is visible on the other
    code1, _ = primary.proteus(CREATE_PARTY % {'name': 'Made on primary'})
    code2, names = secondary.proteus(
        CREATE_PARTY % {'name': 'Made on secondary'})
    assert code1.startswith('1-') and code2.startswith('2-')
    assert {'Made on primary', 'Made on secondary'} <= set(names)
    _, names = primary.proteus(CREATE_PARTY % {'name': 'Second on primary'})
    assert 'Made on secondary' in names

    # A role that is no instance cannot read the shared tables
    with pytest.raises(Exception) as info:
        cluster.connect(setup['outsider'], dbname).execute(
            'SELECT * FROM public.party_party')
    assert 'permission denied' in str(info.value)

    # Upgrade: the primary first, then resync and the secondary
    primary.admin('-u', 'party')
    secondary.proteus(RUN_WIZARD % {
            'name': 'shared_schema.copy_model_data', 'before': ''})
    secondary.admin('-u', 'party')
    assert cluster.count(
        dbname, 'SELECT count(*) FROM public.country_region') == regions


def test_secondary_update_out_of_sync_is_refused(setup):
    "A secondary update that would duplicate shared records rolls back"
    cluster, dbname = setup['cluster'], setup['dbname']
    secondary = setup['secondary']
    if not cluster.count(dbname,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename = 'country_region'"):
        pytest.skip("needs test_two_instances first")
    regions = cluster.count(
        dbname, 'SELECT count(*) FROM public.country_region')
    cluster.execute(dbname,
        'DELETE FROM "%s".ir_model_data '
        "WHERE model = 'country.region'" % secondary.role)
    process = secondary.admin('-u', 'country', check=False)
    assert process.returncode != 0
    assert 'differ from the primary' in process.stderr + process.stdout
    assert cluster.count(
        dbname, 'SELECT count(*) FROM public.country_region') == regions

    # The activation wizard (client and proteus path) resyncs first
    secondary.proteus('''
Module = Model.get('ir.module')
country, = Module.find([('name', '=', 'country')])
country.click('upgrade')
Wizard('ir.module.activate_upgrade').execute('upgrade')
result = True
''')
    assert cluster.count(
        dbname, 'SELECT count(*) FROM public.country_region') == regions
