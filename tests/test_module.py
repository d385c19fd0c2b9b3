# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import os
import uuid
import xml.etree.ElementTree as ET
from unittest.mock import patch

from trytond.model.exceptions import AccessError
from trytond.modules.shared_schema import catalog
from trytond.modules.shared_schema.exceptions import SharedSchemaError
from trytond.modules.shared_schema.plan import (
    DDL, MESSAGES, REGISTRY_TABLE, Desired, Plan, analyse_foreign_keys, ident,
    identifier_problem, missing_views, plan_grant, plan_move, qualified)
from trytond.modules.shared_schema.shared_schema import (
    PRESETS, check_model, model_tables)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

HOWTO_MODELS = [
    'party.party', 'party.address', 'party.contact_mechanism',
    'country.country', 'country.subdivision', 'country.postal_code',
    ]


def unique(prefix):
    return '%s_%s' % (prefix, uuid.uuid4().hex[:12])


class SharedSchemaTestCase(ModuleTestCase):
    "Test Shared Schema module"
    module = 'shared_schema'
    extras = ['party', 'country']

    def analyse(self, models):
        cursor = Transaction().connection.cursor()
        schema = catalog.current_schema(cursor)
        tables = model_tables(models)
        plan = Plan('test')
        outside, cascades = analyse_foreign_keys(plan,
            catalog.foreign_keys(cursor, [schema]), tables, 'shared',
            schema)
        return plan, tables, outside, cascades

    @with_transaction()
    def test_preset_closed_under_foreign_keys(self):
        "Test the preset has no foreign key to a table outside it"
        plan, tables, outside, cascades = self.analyse(
            PRESETS['parties_countries'])
        self.assertEqual(outside, [])
        self.assertTrue(plan.ok)
        for table in ['party_party', 'party_address', 'party_identifier',
                'party_party-party_category', 'country_region',
                'country_postal_code']:
            self.assertIn(table, tables)
        self.assertIn('party_party_lang', {f.table for f in cascades})

    @with_transaction()
    def test_howto_set_refused(self):
        "Test the recipe's set is refused because of country.region"
        plan, _, outside, _ = self.analyse(HOWTO_MODELS)
        self.assertFalse(plan.ok)
        self.assertEqual(plan.refusals[0].code, 'foreign_key_outside')
        self.assertIn(
            'country_country.region -> country_region', str(plan.refusals[0]))
        self.assertIn('party_identifier', {f.table for f in outside} | {
                'party_identifier'})

    @with_transaction()
    def test_many2many_needs_both_ends(self):
        "Test a relation table is shared only with both its ends"
        self.assertNotIn('party_party-party_category',
            model_tables(['party.party']))
        self.assertIn('party_party-party_category',
            model_tables(['party.party', 'party.category']))

    @with_transaction()
    def test_move_refused_without_owner_role(self):
        "Test the move tells the DBA what to run when the role is missing"
        cursor = Transaction().connection.cursor()
        role = unique('missing')
        plan = plan_move(cursor, Desired('public', role, ['party_party']))
        codes = [r.code for r in plan.refusals]
        self.assertIn('same_schema', codes)
        plan = plan_move(cursor, Desired(
                unique('nowhere'), role, ['party_party']))
        codes = [r.code for r in plan.refusals]
        self.assertIn('owner_role_missing', codes)
        self.assertIn('schema_missing', codes)
        self.assertIn('CREATE ROLE "%s" NOLOGIN;' % role, ' '.join(
                str(r) for r in plan.refusals))
        self.assertEqual(plan.statements, [])

    def prepare_shared_schema(self):
        """Create, in the test transaction, an owner role and a shared
        schema in the search path"""
        cursor = Transaction().connection.cursor()
        owner, shared = unique('owner'), unique('shared')
        for statement in [
                DDL('CREATE ROLE %s NOLOGIN', ident(owner)),
                DDL('CREATE SCHEMA %s', ident(shared))]:
            cursor.execute(*statement)
        schema = catalog.current_schema(cursor)
        cursor.execute("SELECT set_config('search_path', %s, true)",
            ('%s, %s' % (ident(schema), ident(shared)),))
        return cursor, schema, owner, shared

    @with_transaction()
    def test_move_and_grant(self):
        "Test the move moves the tables and running it again does nothing"
        cursor, schema, owner, shared = self.prepare_shared_schema()
        tables = model_tables(PRESETS['parties_countries'])
        tables[REGISTRY_TABLE] = 'shared_schema.instance'
        desired = Desired(shared, owner, tables)

        plan = plan_move(cursor, desired)
        self.assertTrue(plan.ok, plan.render())
        self.assertIn(
            'ALTER TABLE %s SET SCHEMA %s' % (
                qualified(schema, 'party_party'), ident(shared)),
            [s.sql for s in plan.statements])
        plan.execute(cursor)

        cursor.execute(
            'SELECT tablename, tableowner FROM pg_tables '
            'WHERE schemaname = %s', (shared,))
        moved = dict(cursor)
        self.assertEqual(set(moved), set(tables))
        self.assertEqual(set(moved.values()), {owner})
        self.assertEqual(catalog.owned_sequences(
                cursor, shared, 'party_party'),
            [(shared, 'party_party_id_seq')])
        self.assertEqual(plan_move(cursor, desired).statements, [])

        grant = plan_grant(cursor, shared, owner)
        self.assertTrue(grant.ok, grant.render())
        grant.execute(cursor)
        self.assertEqual(plan_grant(cursor, shared, owner).statements, [])
        self.assertEqual(missing_views(cursor, shared), set())
        self.assertNotIn('PUBLIC', {g.grantee
                for g in catalog.table_grants(cursor, shared, 'party_party')})

        # The ORM keeps working on the moved tables
        Party = Pool().get('party.party')
        party, = Party.create([{'name': "Shared"}])
        self.assertEqual(Party.search([('name', '=', "Shared")]), [party])

    @with_transaction()
    def test_move_refuses_shadow_tables(self):
        "Test a table named like a shared one elsewhere is refused"
        cursor, schema, owner, shared = self.prepare_shared_schema()
        other = unique('other')
        cursor.execute(*DDL('CREATE SCHEMA %s', ident(other)))
        cursor.execute(*DDL('CREATE TABLE %s (id integer)',
                qualified(other, 'party_category')))
        plan = plan_move(cursor, Desired(shared, owner, model_tables(
                    ['party.category'])))
        self.assertEqual([r.code for r in plan.refusals], ['shadow_tables'])
        self.assertIn('%s.party_category' % other, str(plan.refusals[0]))

    def test_identifiers_quoted(self):
        "Test identifiers are quoted and bad ones named"
        self.assertEqual(ident('a"b'), '"a""b"')
        self.assertEqual(qualified('s; x', 't'), '"s; x"."t"')
        self.assertIsNone(identifier_problem('été'))
        self.assertIn('63', identifier_problem('x' * 64))
        self.assertIn('63', identifier_problem('é' * 32))
        self.assertEqual(identifier_problem(''), 'it is empty')
        self.assertIn('NUL', identifier_problem('a\x00b'))

    def test_messages_in_message_xml(self):
        "Test every refusal message is in message.xml with the same text"
        path = os.path.join(os.path.dirname(__file__), '..', 'message.xml')
        texts = {r.get('id'): r.find('field').text
            for r in ET.parse(path).getroot().iter('record')}
        for code, text in MESSAGES.items():
            self.assertEqual(texts.get('msg_%s' % code), text, code)

    @with_transaction()
    def test_check_model(self):
        "Test the models that cannot be shared"
        for name in ['ir.model', 'res.user', 'shared_schema.instance']:
            with self.assertRaisesRegex(SharedSchemaError, 'belong to each'):
                check_model(name)
        with self.assertRaisesRegex(SharedSchemaError, 'not activated'):
            check_model('no.such.model')
        with self.assertRaisesRegex(SharedSchemaError, 'no table'):
            check_model('party.replace.ask')
        Category = Pool().get('party.category')
        with patch.object(Category, '_is_table_query', return_value=True):
            with self.assertRaisesRegex(SharedSchemaError, 'table_query'):
                check_model('party.category')
        check_model('party.category')

    @with_transaction()
    def test_configuration_validation(self):
        "Test the configuration refuses bad names"
        Configuration = Pool().get('shared_schema.configuration')
        configuration = Configuration(1)
        configuration.owner_role = 'x' * 64
        with self.assertRaisesRegex(SharedSchemaError, 'valid PostgreSQL'):
            configuration.save()
        configuration = Configuration(1)
        configuration.owner_role = 'owner'
        configuration.schema = catalog.current_schema(
            Transaction().connection.cursor())
        with self.assertRaisesRegex(SharedSchemaError, 'is the schema'):
            configuration.save()
        configuration = Configuration(1)
        configuration.owner_role = 'owner'
        configuration.role = 'secondary'
        configuration.primary_schema = 'public'
        configuration.schema = 'shared'
        with self.assertRaisesRegex(SharedSchemaError, 'own schema'):
            configuration.save()

    @with_transaction()
    def test_fill_preset(self):
        "Test the preset button fills the activated models"
        Configuration = Pool().get('shared_schema.configuration')
        configuration = Configuration(1)
        configuration.schema = 'shared'
        configuration.save()
        Configuration.fill_preset([configuration])
        Configuration.fill_preset([configuration])
        configuration = Configuration(1)
        self.assertEqual(configuration.model_names,
            sorted(PRESETS['parties_countries']))

    @with_transaction()
    def test_prefix_checks(self):
        "Test the party code prefix collisions"
        Instance = Pool().get('shared_schema.instance')
        Instance.create([{
                    'name': 'one', 'schema_name': 'one', 'db_role': 'one',
                    'role': 'primary', 'party_prefix': '1-'}, {
                    'name': 'two', 'schema_name': 'two', 'db_role': 'two',
                    'role': 'secondary', 'party_prefix': None}])
        Instance.check_prefix('3-', 'three')
        with self.assertRaisesRegex(SharedSchemaError, 'already used'):
            Instance.check_prefix('1-', 'three')
        with self.assertRaisesRegex(SharedSchemaError, 'overlaps'):
            Instance.check_prefix('1', 'three')
        with self.assertRaisesRegex(SharedSchemaError, 'overlaps'):
            Instance.check_prefix('1-0', 'three')
        with self.assertRaisesRegex(SharedSchemaError, 'cannot be empty'):
            Instance.check_prefix('', 'three')
        Instance.check_prefix('1-', 'one')

    @with_transaction()
    def test_non_admin_refused(self):
        "Test a user outside the Administration group gets access errors"
        pool = Pool()
        User = pool.get('res.user')
        Configuration = pool.get('shared_schema.configuration')
        Instance = pool.get('shared_schema.instance')
        user, = User.create([{'name': "Clerk", 'login': 'clerk'}])
        with Transaction().set_user(user.id), \
                Transaction().set_context(_check_access=True):
            with self.assertRaises(AccessError):
                Configuration.read([1], ['schema'])
            with self.assertRaises(AccessError):
                Instance.search([])
            for name in ['shared_schema.setup', 'shared_schema.move_tables',
                    'shared_schema.grant_access',
                    'shared_schema.copy_model_data',
                    'shared_schema.set_party_prefix']:
                Wizard = pool.get(name, type='wizard')
                with self.assertRaises(AccessError):
                    Wizard.check_access()


del ModuleTestCase
