# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt

from trytond import backend
from trytond.i18n import gettext
from trytond.model import ModelSingleton, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from . import catalog, model_data, translation
from .exceptions import SharedSchemaError
from .plan import (
    DDL, REGISTRY_TABLE, Desired, Plan, Refusal, check_identifiers,
    check_roles, identifier_problem, missing_views, plan_grant, plan_move,
    qualified, shadow_tables)

PRESETS = {
    'parties_countries': [
        'country.country',
        'country.organization',
        'country.organization.member',
        'country.postal_code',
        'country.region',
        'country.subdivision',
        'party.address',
        'party.address.format',
        'party.address.subdivision_type',
        'party.category',
        'party.contact_mechanism',
        'party.identifier',
        'party.party',
        'party.party-party.category',
        ],
    }
# PostgreSQL's lock_not_available: lock_timeout expired.
LOCK_NOT_AVAILABLE = '55P03'
IDENTIFIER_FIELDS = ['schema', 'owner_role', 'primary_schema', 'instance_name']
FORBIDDEN_PREFIXES = ('ir.', 'res.', 'shared_schema.')
ROLES = [
    ('primary', "Primary"),
    ('secondary', "Secondary"),
    ]


def check_postgresql():
    if backend.name != 'postgresql':
        raise SharedSchemaError(gettext(
                'shared_schema.msg_not_postgresql', backend=backend.name))


def translate(refusal):
    "The message of a refusal in the user's language"
    message_id = 'shared_schema.msg_%s' % refusal.code
    text = gettext(message_id, **refusal.params)
    if text == message_id:
        # Not loaded yet: during the update that brings the message
        text = str(refusal)
    return text


def raise_refusals(plan):
    "Raise the refusals of plan as one translated UserError"
    if plan.ok:
        return
    messages = [translate(r) for r in plan.refusals]
    raise SharedSchemaError(messages[0], '\n\n'.join(messages[1:]))


def check_unchanged(plan, previewed):
    "Refuse to run a plan that differs from the one the admin reviewed"
    if previewed is not None and plan.render_sql() != previewed:
        raise SharedSchemaError(gettext('shared_schema.msg_plan_changed'))


def execute(plan, previewed=None):
    """Run plan in the current transaction once its refusals are raised and
    it is the plan previewed"""
    raise_refusals(plan)
    check_unchanged(plan, previewed)
    cursor = Transaction().connection.cursor()
    # A savepoint keeps the transaction usable to translate the error.
    cursor.execute('SAVEPOINT shared_schema_plan')
    try:
        count = plan.execute(cursor)
    except backend.DatabaseOperationalError as exception:
        if getattr(exception, 'sqlstate', None) != LOCK_NOT_AVAILABLE:
            raise
        cursor.execute('ROLLBACK TO SAVEPOINT shared_schema_plan')
        statement = plan.running
        raise SharedSchemaError(gettext('shared_schema.msg_lock_timeout',
                timeout=plan.lock_timeout or '',
                statement=statement.sql if statement else '')
            ) from exception
    cursor.execute('RELEASE SAVEPOINT shared_schema_plan')
    return count


def default_owner_role():
    name = '%s_shared' % Transaction().database.name
    while len(name.encode('utf-8')) > 63:
        name = name[1:]
    return name


def model_tables(model_names):
    """The tables of the models, as {table: model name}, with their history
    tables and the Many2Many relation tables whose both ends are in the set
    """
    pool = Pool()
    names = set(model_names)
    tables = {}
    for name in sorted(names):
        Model = pool.get(name)
        tables[Model._table] = name
        if Model._history:
            tables[Model._table + '__history'] = name
        for field in Model._fields.values():
            if not isinstance(field, fields.Many2Many):
                continue
            Relation = pool.get(field.relation_name)
            target = Relation._fields[field.target]
            if (getattr(target, 'model_name', None) in names
                    and not Relation._is_table_query()):
                tables.setdefault(Relation._table, Relation.__name__)
    return tables


def in_pool(name, type='model'):
    try:
        Pool().get(name, type=type)
    except KeyError:
        return False
    return True


def check_model(name):
    "Raise when the model cannot be shared"
    pool = Pool()
    if name.startswith(FORBIDDEN_PREFIXES):
        raise SharedSchemaError(gettext(
                'shared_schema.msg_model_forbidden', model=name))
    try:
        Model = pool.get(name)
    except KeyError:
        raise SharedSchemaError(gettext(
                'shared_schema.msg_model_not_activated', model=name))
    if not issubclass(Model, ModelSQL):
        raise SharedSchemaError(gettext(
                'shared_schema.msg_model_no_table', model=name))
    if Model._is_table_query():
        raise SharedSchemaError(gettext(
                'shared_schema.msg_model_table_query', model=name))


class Configuration(ModelSingleton, ModelSQL, ModelView):
    "Shared Schema Configuration"
    __name__ = 'shared_schema.configuration'

    instance_name = fields.Char(
        "Instance Name", required=True,
        help="The name of this Tryton instance in the registry of the "
        "instances sharing the database.")
    role = fields.Selection(ROLES, "Role", required=True,
        help="The primary owns the shared tables and is set up and "
        "upgraded first; secondaries take the shared set from it.")
    schema = fields.Char(
        "Shared Schema", required=True,
        help="The PostgreSQL schema that holds the shared tables. It must be "
        "in the search path of every instance's database role.")
    primary_schema = fields.Char(
        "Primary Schema",
        states={
            'required': Eval('role') == 'secondary',
            'invisible': Eval('role') != 'secondary',
            },
        help="The schema of the primary instance (its database role).")
    owner_role = fields.Char(
        "Shared Owner Role", required=True,
        help="The NOLOGIN PostgreSQL group role that owns the shared tables; "
        "every instance's database role must be its member.")
    lock_timeout = fields.Integer(
        "Lock Timeout", required=True,
        help="How many seconds the move waits for a lock on a table before "
        "giving up.")
    models = fields.One2Many(
        'shared_schema.model', 'configuration', "Shared Models",
        states={
            'readonly': Eval('role') == 'secondary',
            },
        help="The models whose tables are shared. A secondary takes them "
        "from its primary.")
    instance_schema = fields.Function(
        fields.Char("Instance Schema"), 'get_database_info')
    database_role = fields.Function(
        fields.Char("Database Role"), 'get_database_info')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'fill_preset': {
                    'invisible': Eval('role') != 'primary',
                    'icon': 'tryton-add',
                    },
                })

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        if backend.name == 'postgresql':
            cls.check_secondary_in_sync()

    @classmethod
    def check_secondary_in_sync(cls):
        """Refuse a module update that left this secondary's model data of
        the shared models different from its primary's: the XML loader
        would have created or changed shared records on its own"""
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        cursor.execute(*table.select(
                table.role, table.schema, table.primary_schema,
                order_by=[table.id], limit=1))
        row = cursor.fetchone()
        if not row or row[0] != 'secondary' or not row[1]:
            return
        schema = row[1]
        if missing_views(cursor, schema):
            return
        counts = model_data.drift(cursor, schema)
        if counts['stale']:
            raise SharedSchemaError(translate(Refusal(
                        'secondary_out_of_sync',
                        {'stale': counts['stale'], 'primary': row[2]})))

    @classmethod
    def default_instance_name(cls):
        if backend.name == 'postgresql':
            return Transaction().database.current_user

    @classmethod
    def default_role(cls):
        return 'primary'

    @classmethod
    def default_schema(cls):
        return 'public'

    @classmethod
    def default_owner_role(cls):
        return default_owner_role()

    @classmethod
    def default_lock_timeout(cls):
        return 5

    @classmethod
    def get_database_info(cls, configurations, names):
        result = {n: {c.id: None for c in configurations} for n in names}
        if backend.name != 'postgresql':
            return result
        cursor = Transaction().connection.cursor()
        values = {
            'instance_schema': catalog.current_schema(cursor),
            'database_role': catalog.current_user(cursor),
            }
        for name in names:
            for configuration in configurations:
                result[name][configuration.id] = values[name]
        return result

    @classmethod
    def create(cls, vlist):
        for values in vlist:
            cls.check_names(values)
        return super().create(vlist)

    @classmethod
    def write(cls, *args):
        for values in args[1::2]:
            cls.check_names(values)
        super().write(*args)

    @classmethod
    def check_names(cls, values):
        """Refuse before storing them the names PostgreSQL could not even
        store (a NUL byte)"""
        for name in IDENTIFIER_FIELDS:
            value = values.get(name)
            if value and '\x00' in value:
                raise SharedSchemaError(gettext(
                        'shared_schema.msg_invalid_identifier',
                        name=value.replace('\x00', '\\0'),
                        reason=identifier_problem(value)))

    @classmethod
    def validate_fields(cls, configurations, field_names):
        super().validate_fields(configurations, field_names)
        check_postgresql()
        cursor = Transaction().connection.cursor()
        schema = catalog.current_schema(cursor)
        for configuration in configurations:
            for name in IDENTIFIER_FIELDS:
                value = getattr(configuration, name)
                if not value:
                    # Empty: the client sends '' for a cleared field; a
                    # required one is refused as missing.
                    continue
                problem = identifier_problem(value)
                if problem:
                    raise SharedSchemaError(gettext(
                            'shared_schema.msg_invalid_identifier',
                            name=value, reason=problem))
            if configuration.schema == schema:
                raise SharedSchemaError(gettext(
                        'shared_schema.msg_same_schema', schema=schema))
            if (configuration.role == 'secondary'
                    and configuration.primary_schema in (
                        schema, configuration.schema)):
                raise SharedSchemaError(gettext(
                        'shared_schema.msg_primary_is_self',
                        schema=configuration.primary_schema))
            if configuration.lock_timeout is not None and not (
                    0 < configuration.lock_timeout <= 3600):
                raise SharedSchemaError(gettext(
                        'shared_schema.msg_invalid_lock_timeout'))

    @classmethod
    @ModelView.button
    def fill_preset(cls, configurations, preset='parties_countries'):
        "Add the models of a complete preset that are activated"
        pool = Pool()
        Model = pool.get('ir.model')
        Line = pool.get('shared_schema.model')
        check_postgresql()
        names = [n for n in PRESETS[preset] if in_pool(n)]
        models = Model.search([('name', 'in', names)])
        lines = []
        for configuration in configurations:
            configuration = cls.singleton()
            present = {l.model.name for l in Line.search([
                        ('configuration', '=', configuration.id),
                        ])}
            for model in models:
                if model.name not in present:
                    lines.append(Line(configuration=configuration,
                            model=model))
        Line.save(lines)

    @classmethod
    def singleton(cls):
        "The stored record, whatever id the client used"
        singleton = cls.get_singleton()
        if not singleton:
            singleton, = cls.create([{}])
        return singleton

    @property
    def model_names(self):
        return sorted(l.model.name for l in self.models)

    @property
    def lock_timeout_text(self):
        return '%ss' % self.lock_timeout

    def shared_tables(self):
        """The tables to share, as {table: model}; for a secondary the
        primary's registered tables"""
        if self.role == 'secondary':
            primary = self.primary_instance()
            if primary is None:
                return {}
            return primary.table_map
        for name in self.model_names:
            check_model(name)
        tables = model_tables(self.model_names)
        tables[REGISTRY_TABLE] = 'shared_schema.instance'
        return tables

    def desired(self):
        return Desired(self.schema, self.owner_role, self.shared_tables(),
            lock_timeout=self.lock_timeout_text)

    def primary_instance(self):
        pool = Pool()
        Instance = pool.get('shared_schema.instance')
        if not self.registry_shared():
            return None
        instances = Instance.search([
                ('role', '=', 'primary'),
                ('schema_name', '=', self.primary_schema),
                ('setup_date', '!=', None),
                ])
        return instances[0] if instances else None

    def registry_shared(self):
        "Whether the registry table is in the shared schema"
        cursor = Transaction().connection.cursor()
        return any(r.schema == self.schema
            for r in catalog.relations(cursor, [REGISTRY_TABLE]))

    def plan_move(self):
        check_postgresql()
        cursor = Transaction().connection.cursor()
        if self.role != 'primary':
            raise SharedSchemaError(gettext(
                    'shared_schema.msg_primary_only'))
        if not self.models:
            raise SharedSchemaError(gettext('shared_schema.msg_no_models'))
        return plan_move(cursor, self.desired())

    def plan_grant(self):
        check_postgresql()
        cursor = Transaction().connection.cursor()
        if self.role != 'primary':
            raise SharedSchemaError(gettext(
                    'shared_schema.msg_primary_only'))
        return plan_grant(cursor, self.schema, self.owner_role)

    def plan_copy(self):
        """The plan of a secondary: first the checks (and the drop of its
        own empty registry if it made one), then the copy of model data"""
        check_postgresql()
        cursor = Transaction().connection.cursor()
        if self.role != 'secondary':
            raise SharedSchemaError(gettext(
                    'shared_schema.msg_secondary_only'))
        plan = self.check_secondary()
        if plan.ok and not plan.statements:
            plan.extend(translation.plan_copy_all(cursor, self.schema))
        return plan

    def copy_model_data(self, previewed=None):
        """Run the copy of model data from the primary and take its shared
        set; return the number of statements run and the counts"""
        plan = self.plan_copy()
        count = 0
        if plan.ok and plan.statements and plan.counts is None:
            # The own registry must go before the primary can be read.
            count += execute(plan, previewed)
            plan, previewed = self.plan_copy(), None
        primary = self.check_secondary_primary()
        count += execute(plan, previewed)
        if (plan.counts or {}).get('translations'):
            # The SQL bypassed ir.translation: forget what it cached.
            Pool().get('ir.translation')._translation_cache.clear()
        self.fill_from_primary(primary)
        return count, plan.counts

    def check_secondary(self):
        """The refusals of a secondary's setup, and the drop of its own
        empty copy of the registry when it has one"""
        cursor = Transaction().connection.cursor()
        plan = Plan('Check the secondary set-up')
        if not check_identifiers(plan, self.schema, self.owner_role,
                self.primary_schema or ''):
            return plan
        check_roles(plan, cursor, self.owner_role, self.schema)
        if not plan.ok:
            return plan
        schema = catalog.current_schema(cursor)
        registry = {r.schema for r in catalog.relations(
                cursor, [REGISTRY_TABLE])}
        if self.schema not in registry:
            plan.refuse('primary_not_ready', schema=self.primary_schema,
                shared_schema=self.schema)
            return plan
        if schema in registry:
            if catalog.is_empty(cursor, schema, REGISTRY_TABLE):
                plan.add(DDL('DROP TABLE %s',
                        qualified(schema, REGISTRY_TABLE)),
                    'This instance created its own empty registry before '
                    'the primary shared it; it would hide the shared one.')
            else:
                plan.refuse('shadow_tables', tables='%s.%s' % (
                        schema, REGISTRY_TABLE))
        return plan

    def check_secondary_primary(self):
        "Refuse when the primary is not registered and set up"
        primary = self.primary_instance()
        if primary is None:
            raise SharedSchemaError(gettext(
                    'shared_schema.msg_primary_not_ready',
                    schema=self.primary_schema, shared_schema=self.schema))
        cursor = Transaction().connection.cursor()
        schema = catalog.current_schema(cursor)
        shadows = [r for r in shadow_tables(
                cursor, list(primary.table_map), self.schema)
            if r.schema == schema]
        if shadows:
            raise SharedSchemaError(gettext(
                    'shared_schema.msg_shadow_tables',
                    tables=', '.join(
                        '%s.%s' % (r.schema, r.name) for r in shadows)))
        return primary

    def fill_from_primary(self, primary):
        "Set the shared models of this secondary to the primary's"
        pool = Pool()
        Model = pool.get('ir.model')
        Line = pool.get('shared_schema.model')
        names = primary.model_names
        configuration = self.singleton()
        present = {l.model.name: l for l in Line.search([
                    ('configuration', '=', configuration.id),
                    ])}
        Line.delete([l for n, l in present.items() if n not in names])
        models = Model.search([
                ('name', 'in', [n for n in names if n not in present]),
                ])
        Line.save([Line(configuration=configuration, model=m)
                for m in models])

    def register(self):
        "Create or update this instance's row of the registry"
        pool = Pool()
        Instance = pool.get('shared_schema.instance')
        cursor = Transaction().connection.cursor()
        schema = catalog.current_schema(cursor)
        Instance.lock()
        instance = Instance.search([('schema_name', '=', schema)])
        instance = instance[0] if instance else Instance(schema_name=schema)
        instance.name = self.instance_name
        instance.db_role = catalog.current_user(cursor)
        instance.role = self.role
        instance.primary_schema = (
            self.primary_schema if self.role == 'secondary' else None)
        instance.setup_date = dt.datetime.now()
        if self.role == 'primary':
            tables = self.shared_tables()
            instance.models = '\n'.join(self.model_names)
            instance.tables = '\n'.join(
                '%s %s' % (t, m) for t, m in sorted(tables.items()))
        else:
            instance.models = instance.tables = None
        instance.save()
        return instance


class SharedModel(ModelSQL, ModelView):
    "Shared Model"
    __name__ = 'shared_schema.model'

    configuration = fields.Many2One(
        'shared_schema.configuration', "Configuration",
        required=True, ondelete='CASCADE')
    model = fields.Many2One(
        'ir.model', "Model", required=True, ondelete='CASCADE',
        help="A model whose table is shared by every instance.")
    tables = fields.Function(fields.Char("Tables"), 'get_state')
    state = fields.Function(fields.Selection([
                ('private', "Private"),
                ('shared', "Shared"),
                ('missing', "Missing"),
                ('shadowed', "Shadowed"),
                ], "State"), 'get_state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('model_unique', Unique(t, t.configuration, t.model),
                'shared_schema.msg_model_unique'),
            ]
        cls._order.insert(0, ('model', 'ASC'))

    @classmethod
    def validate_fields(cls, lines, field_names):
        super().validate_fields(lines, field_names)
        for line in lines:
            if line.configuration.role == 'primary':
                check_model(line.model.name)
            elif line.model.name.startswith(FORBIDDEN_PREFIXES):
                check_model(line.model.name)

    def get_rec_name(self, name):
        return self.model.rec_name

    @classmethod
    def get_state(cls, lines, names):
        pool = Pool()
        result = {n: {l.id: None for l in lines} for n in names}
        if backend.name != 'postgresql':
            return result
        cursor = Transaction().connection.cursor()
        schema = catalog.current_schema(cursor)
        for line in lines:
            tables = []
            if in_pool(line.model.name):
                Model = pool.get(line.model.name)
                if issubclass(Model, ModelSQL):
                    tables = sorted(model_tables([line.model.name]))
            if not tables and line.configuration.role == 'secondary':
                tables = sorted(t for t, m in
                    line.configuration.shared_tables().items()
                    if m == line.model.name)
            if 'tables' in names:
                result['tables'][line.id] = ', '.join(tables)
            if 'state' in names:
                where = {r.schema for r in catalog.relations(cursor, tables)}
                shared = line.configuration.schema in where
                if not tables or not where & {
                        schema, line.configuration.schema}:
                    state = 'missing'
                elif shared and schema in where:
                    state = 'shadowed'
                elif shared:
                    state = 'shared'
                else:
                    state = 'private'
                result['state'][line.id] = state
        return result


class Instance(ModelSQL, ModelView):
    "Shared Schema Instance"
    __name__ = 'shared_schema.instance'
    _table = REGISTRY_TABLE

    name = fields.Char("Name", required=True, readonly=True)
    schema_name = fields.Char("Schema", required=True, readonly=True)
    db_role = fields.Char("Database Role", required=True, readonly=True)
    role = fields.Selection(ROLES, "Role", required=True, readonly=True)
    primary_schema = fields.Char("Primary Schema", readonly=True)
    party_prefix = fields.Char("Party Prefix", readonly=True,
        help="The prefix of the party codes this instance generates.")
    setup_date = fields.DateTime("Set up", readonly=True)
    models = fields.Text("Shared Models", readonly=True)
    tables = fields.Text("Shared Tables", readonly=True,
        help="One line a table: its name and its model.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('schema_unique', Unique(t, t.schema_name),
                'shared_schema.msg_instance_schema_unique'),
            ('name_unique', Unique(t, t.name),
                'shared_schema.msg_instance_name_unique'),
            ]
        cls._order.insert(0, ('setup_date', 'ASC NULLS LAST'))

    @property
    def model_names(self):
        return [n for n in (self.models or '').splitlines() if n]

    @property
    def table_map(self):
        result = {}
        for line in (self.tables or '').splitlines():
            if line.strip():
                table, _, model = line.partition(' ')
                result[table] = model or table
        return result

    @classmethod
    def check_prefix(cls, prefix, schema):
        """Raise when prefix could make this instance generate a party code
        that another registered instance generates too"""
        others = cls.search([('schema_name', '!=', schema)])
        prefix = prefix or ''
        for other in others:
            theirs = other.party_prefix or ''
            if not prefix and others:
                raise SharedSchemaError(gettext(
                        'shared_schema.msg_prefix_empty',
                        instance=other.name))
            if prefix == theirs:
                raise SharedSchemaError(gettext(
                        'shared_schema.msg_prefix_used',
                        prefix=prefix, instance=other.name))
            if theirs and (
                    prefix.startswith(theirs) or theirs.startswith(prefix)):
                raise SharedSchemaError(gettext(
                        'shared_schema.msg_prefix_overlap',
                        prefix=prefix, other=theirs, instance=other.name))
