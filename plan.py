# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Decide what to change, and how, from the catalog and the desired state.

A :class:`Plan` is the single source of every statement this module runs
against the database: the wizards show :meth:`Plan.render` as their preview
and run :meth:`Plan.execute` with the very same statements; the command
line prints the same text.  Refusals and warnings are kept on the plan with
a code (the ``ir.message`` is ``shared_schema.msg_<code>``) so that the
Tryton layer can translate them and the command line can print them.

Identifiers are always quoted by python-sql (:func:`ident`,
:func:`qualified`); values are always passed as parameters.
"""
from collections import namedtuple

from sql import Expression, Select, Table
from sql.functions import Function

from . import catalog

MAX_IDENTIFIER = 63
REGISTRY_TABLE = 'shared_schema_instance'
MODEL_VIEW = 'shared_schema_primary_model'
MODEL_DATA_VIEW = 'shared_schema_primary_model_data'
TRANSLATION_VIEW = 'shared_schema_primary_translation'
DEFAULT_LOCK_TIMEOUT = '5s'

# The English text of each refusal or warning; message.xml holds the same
# text as msg_<code> (a test keeps them equal).
MESSAGES = {
    'invalid_identifier': (
        'The name "%(name)s" is not a valid PostgreSQL identifier: '
        '%(reason)s.'),
    'same_schema': (
        'The shared schema "%(schema)s" is the schema of this instance; '
        'choose another one (usually "public").'),
    'schema_missing': (
        'The schema "%(schema)s" does not exist. '
        'A database administrator must run:\n%(sql)s'),
    'schema_not_in_path': (
        'The shared schema "%(schema)s" is not in the search path of role '
        '"%(role)s" (%(path)s). Run this SQL, then restart the server:\n'
        '%(sql)s'),
    'owner_role_missing': (
        'The shared owner role "%(owner_role)s" does not exist. '
        'A database administrator must run:\n%(sql)s'),
    'owner_role_can_login': (
        'The shared owner role "%(owner_role)s" can log in; it must be a '
        'NOLOGIN group role. A database administrator must run:\n%(sql)s'),
    'not_member': (
        'The role "%(role)s" of this instance is not a member of the shared '
        'owner role "%(owner_role)s". A database administrator must run:\n'
        '%(sql)s'),
    'table_missing': (
        'The table "%(table)s" of the shared set exists neither in schema '
        '"%(schema)s" nor in the shared schema "%(shared_schema)s". '
        'Activate its module first.'),
    'table_twice': (
        'The table "%(table)s" exists both in schema "%(schema)s" and in the '
        'shared schema "%(shared_schema)s". Remove the copy you do not want '
        'before sharing.'),
    'shadow_tables': (
        'These private tables have the name of a shared table and would '
        'hide it from their instance: %(tables)s. Drop them (after saving '
        'their rows if they have any) before going on.'),
    'foreign_key_outside': (
        'These shared tables would point at private tables: %(constraints)s. '
        'Add the referenced models to the shared set or remove the '
        'referencing ones.'),
    'cascade_from_private': (
        'Deleting a shared record cascades into private tables: '
        '%(constraints)s. A deletion on one instance will silently delete '
        'these rows of another instance. To avoid it, also share: '
        '%(models)s.'),
    'cascade_not_shareable': (
        'Deleting a shared record cascades into private tables that cannot '
        'be shared because they point at private tables of their own '
        'instance (%(tables)s): %(constraints)s. A deletion on one instance '
        'will silently delete these rows of another instance; delete such '
        'shared records only where nothing else uses them.'),
    'primary_not_ready': (
        'The primary instance (schema "%(schema)s") has not shared its '
        'tables in schema "%(shared_schema)s" yet. Run the "Set up Shared '
        'Schema" wizard on the primary first.'),
    'model_data_missing': (
        'The primary has not granted access to its model data yet '
        '(missing "%(view)s"). Run the "Grant Access" wizard on the '
        'primary first.'),
    'registry_missing': (
        'The instance registry is not in the shared schema "%(schema)s". '
        'Run the "Move Tables" wizard on the primary first.'),
    'secondary_out_of_sync': (
        'After this update, %(stale)s rows of the model data of the shared '
        'models on this secondary differ from the primary "%(primary)s": '
        'the update would have created or changed shared records on its '
        'own, so nothing was changed. Update the primary first, then copy '
        'its model data (the "Copy Model Data" wizard, or the upgrade '
        'subcommand of trytond-shared-schema, which does both) and update '
        'this instance again.'),
    'lock_timeout': (
        'A shared table is locked by another transaction: the statement '
        '"%(statement)s" waited longer than the lock timeout (%(timeout)s) '
        'and was cancelled. Nothing was changed. Wait for the long '
        'transaction to end (see pg_stat_activity) and run again.'),
    'registry_shadow': (
        'The instances of schemas %(schemas)s activated this module before '
        'the registry was shared and have their own copy of it; their set-up '
        'drops it when it is empty.'),
    'translation_view_missing': (
        'The primary has not granted access to its translations yet '
        '(missing "%(view)s"): the translations of the shared records are '
        'not copied. Run the "Grant Access" wizard on the primary, then '
        'copy again.'),
    'public_grants': (
        'These shared objects are granted to PUBLIC (every role of the '
        'cluster): %(objects)s. The plan revokes it.'),
    }


class Refusal(namedtuple('Refusal', ['code', 'params'])):
    "A reason not to go on, with its message code and parameters"

    def __str__(self):
        return MESSAGES[self.code] % self.params


class Statement(namedtuple('Statement', ['sql', 'params', 'reason'])):
    "One SQL statement of a plan with the reason to run it"

    def render(self):
        lines = ['-- %s' % line for line in self.reason.splitlines()]
        if self.params:
            lines.append('-- parameters: %s' % ', '.join(
                    repr(p) for p in self.params))
        lines.append(self.sql + ';')
        return '\n'.join(lines)


class Plan:
    "The refusals, warnings and ordered statements of one change"

    def __init__(self, title):
        self.title = title
        self.statements = []
        self.refusals = []
        self.warnings = []
        self.notes = []
        self.counts = None
        self.running = None

    def add(self, query, reason):
        """Append a statement; query is a python-sql query or a pair
        (sql, params)"""
        sql, params = tuple(query)
        self.statements.append(Statement(sql, tuple(params), reason))

    def refuse(self, code, **params):
        self.refusals.append(Refusal(code, params))

    def warn(self, code, **params):
        self.warnings.append(Refusal(code, params))

    def note(self, text):
        self.notes.append(text)

    def extend(self, other):
        "Append other's findings and its statements not already planned"
        planned = {(s.sql, s.params) for s in self.statements}
        self.statements.extend(s for s in other.statements
            if (s.sql, s.params) not in planned)
        self.refusals.extend(other.refusals)
        self.warnings.extend(other.warnings)
        self.notes.extend(other.notes)
        if other.counts is not None:
            self.counts = other.counts

    @property
    def ok(self):
        return not self.refusals

    @property
    def empty(self):
        return not self.statements

    def render_sql(self):
        if not self.statements:
            return '-- Nothing to do.'
        return '\n\n'.join(s.render() for s in self.statements)

    def render_analysis(self, translate=str):
        """The refusals, warnings and notes as text; translate turns a
        Refusal into its message"""
        lines = []
        for refusal in self.refusals:
            lines.append('REFUSED: ' + translate(refusal))
        for warning in self.warnings:
            lines.append('WARNING: ' + translate(warning))
        lines.extend(self.notes)
        return '\n'.join(lines)

    def render(self):
        parts = ['-- %s' % self.title]
        analysis = self.render_analysis()
        if analysis:
            parts.append('\n'.join(
                    '-- %s' % line for line in analysis.splitlines()))
        parts.append(self.render_sql())
        return '\n'.join(parts)

    def execute(self, cursor):
        """Run every statement in order on cursor, in the caller's
        transaction (the caller commits or rolls back)"""
        assert self.ok, self.refusals
        for statement in self.statements:
            # Kept to name the statement that failed (e.g. lock timeout).
            self.running = statement
            cursor.execute(statement.sql, statement.params or None)
        self.running = None
        return len(self.statements)

    @property
    def lock_timeout(self):
        "The lock timeout the plan sets, if any"
        for statement in self.statements:
            if 'set_config' in statement.sql and statement.params[:1] == (
                    'lock_timeout',):
                return statement.params[1]
        return None

    def to_dict(self):
        return {
            'title': self.title,
            'refusals': [
                {'code': r.code, 'message': str(r)} for r in self.refusals],
            'warnings': [
                {'code': w.code, 'message': str(w)} for w in self.warnings],
            'notes': list(self.notes),
            'statements': [
                {'sql': s.sql, 'params': list(s.params), 'reason': s.reason}
                for s in self.statements],
            }


class SetConfig(Function):
    "set_config(name, value, is_local)"
    __slots__ = ()
    _function = 'set_config'


class SplitPart(Function):
    "split_part(string, delimiter, n)"
    __slots__ = ()
    _function = 'split_part'


class Constant(Expression):
    """A fixed SQL constant written into the text of a statement, for the
    bodies of views, which cannot take parameters.  Only the constants of
    ALLOWED exist: none is ever built from a value given at run time."""
    __slots__ = ('_sql',)
    ALLOWED = {
        'model': "'model'",
        ',': "','",
        0: '0',
        1: '1',
        }

    def __init__(self, value):
        super().__init__()
        self._sql = self.ALLOWED[value]

    def __str__(self):
        return self._sql

    @property
    def params(self):
        return ()


class DDL:
    "A DDL statement text whose identifiers python-sql quoted"

    def __init__(self, template, *names):
        self.sql = template % names

    def __iter__(self):
        yield self.sql
        yield ()


def identifier_problem(name):
    "Why name cannot be a PostgreSQL identifier, or None"
    if not name:
        return 'it is empty'
    if '\x00' in name:
        return 'it contains a NUL character'
    if len(name.encode('utf-8')) > MAX_IDENTIFIER:
        return 'it is longer than %s bytes' % MAX_IDENTIFIER
    return None


def ident(name):
    "name quoted as a SQL identifier by python-sql"
    return str(Table(name))


def qualified(schema, name):
    "schema.name quoted as a SQL identifier by python-sql"
    return str(Table(name, schema=schema))


def check_identifiers(plan, *names):
    for name in names:
        problem = identifier_problem(name)
        if problem:
            plan.refuse('invalid_identifier', name=name, reason=problem)
    return plan.ok


def dba_sql(owner_role, roles=(), schema=None):
    "The SQL a database administrator runs once to allow sharing"
    lines = ['CREATE ROLE %s NOLOGIN;' % ident(owner_role)]
    for role in roles:
        lines.append('GRANT %s TO %s;' % (ident(owner_role), ident(role)))
    if schema:
        lines.append('GRANT USAGE, CREATE ON SCHEMA %s TO %s;' % (
                ident(schema), ident(owner_role)))
    return '\n'.join(lines)


def search_path_sql(role, schema):
    return 'ALTER ROLE %s SET search_path = "$user", public, %s;' % (
        ident(role), ident(schema))


def check_roles(plan, cursor, owner_role, shared_schema):
    """Refuse when the owner role is missing or this instance's role cannot
    act as it, or when the shared schema is not usable"""
    role = catalog.current_user(cursor)
    if not catalog.role_exists(cursor, owner_role):
        plan.refuse('owner_role_missing', owner_role=owner_role,
            sql=dba_sql(owner_role, [role], shared_schema))
    else:
        if catalog.role_can_login(cursor, owner_role):
            plan.refuse('owner_role_can_login', owner_role=owner_role,
                sql='ALTER ROLE %s NOLOGIN;' % ident(owner_role))
        if not catalog.is_member(cursor, role, owner_role):
            plan.refuse('not_member', role=role, owner_role=owner_role,
                sql='GRANT %s TO %s;' % (ident(owner_role), ident(role)))
    if not catalog.schema_exists(cursor, shared_schema):
        plan.refuse('schema_missing', schema=shared_schema,
            sql='CREATE SCHEMA %s AUTHORIZATION %s;' % (
                ident(shared_schema), ident(owner_role)))
    elif shared_schema not in catalog.search_path(cursor):
        plan.refuse('schema_not_in_path', schema=shared_schema, role=role,
            path=', '.join(catalog.search_path(cursor)),
            sql=search_path_sql(role, shared_schema))
    return role


def format_fk(fk):
    return '%s.%s -> %s' % (fk.table, ','.join(fk.columns), fk.target_table)


class Desired:
    """What the administrator asked for: the tables to share (with the
    models they belong to), where, and owned by whom"""

    def __init__(self, schema, owner_role, tables, models=None,
            lock_timeout=DEFAULT_LOCK_TIMEOUT):
        self.schema = schema
        self.owner_role = owner_role
        # table name -> model name (for messages)
        self.tables = dict(tables) if isinstance(tables, dict) else {
            t: t for t in tables}
        self.models = models or {}
        self.lock_timeout = lock_timeout


def analyse_foreign_keys(plan, fks, tables, shared_schema, instance_schema):
    """Refuse shared tables that point at private ones; warn about private
    tables whose rows a shared deletion would cascade into"""
    tables = set(tables)

    def shared(schema, table):
        return table in tables or schema == shared_schema

    outside, cascades = [], []
    for fk in fks:
        source_shared = fk.table in tables and fk.schema in (
            shared_schema, instance_schema)
        if source_shared and not shared(fk.target_schema, fk.target_table):
            outside.append(fk)
        elif (not shared(fk.schema, fk.table)
                and shared(fk.target_schema, fk.target_table)
                and fk.on_delete == 'CASCADE'):
            cascades.append(fk)
    if outside:
        plan.refuse('foreign_key_outside',
            constraints=', '.join(sorted({format_fk(f) for f in outside})))
    return outside, cascades


def cascade_proposal(fks, cascades, tables, shared_schema, instance_schema):
    """Split the private tables that shared deletions cascade into: those
    that could be shared too (their other foreign keys point at shared
    tables) and, for the others, the private tables that keep them private
    ({table: [target, ...]})"""
    tables = set(tables)
    sources = {f.table for f in cascades}
    blocked = {}
    for fk in fks:
        if (fk.table in sources and fk.schema == instance_schema
                and fk.target_schema != shared_schema
                and fk.target_table not in tables | sources):
            blocked.setdefault(fk.table, set()).add(fk.target_table)
    proposable = sorted(sources - set(blocked))
    return proposable, {t: sorted(v) for t, v in sorted(blocked.items())}


def warn_cascades(plan, fks, cascades, tables, shared_schema,
        instance_schema, models=None):
    """Warn about the cascades and propose only the tables that can be
    shared without pointing at a private table"""
    models = models or {}
    proposable, blocked = cascade_proposal(
        fks, cascades, tables, shared_schema, instance_schema)
    if proposable:
        plan.warn('cascade_from_private',
            constraints=', '.join(sorted({format_fk(f) for f in cascades
                        if f.table in proposable})),
            models=', '.join(sorted(models.get(t, t) for t in proposable)))
    if blocked:
        plan.warn('cascade_not_shareable',
            constraints=', '.join(sorted({format_fk(f) for f in cascades
                        if f.table in blocked})),
            tables=', '.join('%s -> %s' % (t, ', '.join(v))
                for t, v in blocked.items()))
    return proposable, blocked


def plan_move(cursor, desired, cascade_models=None):
    """The plan that moves the desired tables from this instance's schema
    into the shared schema and hands them to the shared owner role"""
    plan = Plan('Move the shared tables into schema "%s"' % desired.schema)
    if not check_identifiers(
            plan, desired.schema, desired.owner_role, *desired.tables):
        return plan
    schema = catalog.current_schema(cursor)
    if schema == desired.schema:
        plan.refuse('same_schema', schema=schema)
        return plan
    check_roles(plan, cursor, desired.owner_role, desired.schema)

    located = {}
    shadows = []
    for relation in catalog.relations(cursor, desired.tables):
        if relation.schema in (schema, desired.schema):
            located.setdefault(relation.name, {})[relation.schema] = relation
        else:
            shadows.append(relation)
    for table in desired.tables:
        where = located.get(table, {})
        if not where:
            plan.refuse('table_missing', table=table, schema=schema,
                shared_schema=desired.schema)
        elif len(where) > 1:
            plan.refuse('table_twice', table=table, schema=schema,
                shared_schema=desired.schema)
    registries = [r for r in shadows if r.name == REGISTRY_TABLE]
    shadows = [r for r in shadows if r.name != REGISTRY_TABLE]
    if shadows:
        plan.refuse('shadow_tables', tables=', '.join(
                '%s.%s' % (r.schema, r.name) for r in shadows))
    if registries:
        plan.warn('registry_shadow', schemas=', '.join(
                r.schema for r in registries))

    fks = catalog.foreign_keys(cursor, [schema, desired.schema]
        + sorted({r.schema for r in shadows}))
    _, cascades = analyse_foreign_keys(
        plan, fks, desired.tables, desired.schema, schema)
    if cascades:
        warn_cascades(plan, fks, cascades, desired.tables, desired.schema,
            schema, cascade_models)
    if not plan.ok:
        return plan

    plan.add(Select([SetConfig('lock_timeout', desired.lock_timeout, True)]),
        'Wait at most %s for the locks on the tables: a long transaction '
        'holding one makes the move fail instead of blocking every '
        'reader behind it.' % desired.lock_timeout)
    start = len(plan.statements)

    privileges = catalog.schema_privileges(
        cursor, desired.schema, desired.owner_role)
    if privileges != {'USAGE', 'CREATE'}:
        plan.add(DDL('GRANT USAGE, CREATE ON SCHEMA %s TO %s',
                ident(desired.schema), ident(desired.owner_role)),
            'The shared owner role must be able to create in the shared '
            'schema to own tables there (PostgreSQL checks it on ALTER ... '
            'OWNER) and to let its members run module updates.')
    public = []
    for table, model in desired.tables.items():
        where = located[table]
        if schema in where:
            sequences = catalog.owned_sequences(cursor, schema, table)
            reason = 'Share table %s (%s).' % (table, model)
            if sequences:
                reason += ' Its sequence %s moves with it.' % ', '.join(
                    name for _, name in sequences)
            plan.add(DDL('ALTER TABLE %s SET SCHEMA %s',
                    qualified(schema, table), ident(desired.schema)),
                reason)
            owner = where[schema].owner
        else:
            owner = where[desired.schema].owner
        if owner != desired.owner_role:
            plan.add(DDL('ALTER TABLE %s OWNER TO %s',
                    qualified(desired.schema, table),
                    ident(desired.owner_role)),
                'Hand %s to the shared owner role so that every instance '
                'can run the DDL of its module updates on it.' % table)
        if schema not in where and any(
                g.grantee == 'PUBLIC' for g in catalog.table_grants(
                    cursor, desired.schema, table)):
            public.append(table)
        if schema in where and any(
                g.grantee == 'PUBLIC' for g in catalog.table_grants(
                    cursor, schema, table)):
            public.append(table)
    for table in public:
        plan.add(DDL('REVOKE ALL ON TABLE %s FROM PUBLIC',
                qualified(desired.schema, table)),
            'Nothing shared is granted to PUBLIC (every role of the '
            'cluster).')
    if len(plan.statements) == start:
        # Only the lock timeout: nothing to change.
        plan.statements = []
        plan.note('Every table of the set is already shared and owned by '
            '"%s".' % desired.owner_role)
    return plan


def model_views(schema, shared_schema):
    """The SELECTs of the views through which secondaries read the
    primary's shared models, their model data and the translations of
    their records"""
    ir_model = Table('ir_model', schema=schema)
    lines = Table('shared_schema_model', schema=schema)
    ir_model_data = Table('ir_model_data', schema=schema)
    model_view = Table(MODEL_VIEW, schema=shared_schema)
    models = ir_model.select(
        ir_model.name, ir_model.string, ir_model.info, ir_model.module,
        where=ir_model.id.in_(lines.select(lines.model)))
    model_data = ir_model_data.select(
        ir_model_data.fs_id, ir_model_data.model, ir_model_data.module,
        ir_model_data.db_id, ir_model_data.noupdate,
        ir_model_data.field_names,
        where=ir_model_data.model.in_(model_view.select(model_view.name)))
    # The translations of the records (type 'model', a record id) of the
    # shared models; their name is "model,field".
    ir_translation = Table('ir_translation', schema=schema)
    translations = ir_translation.select(
        ir_translation.name, ir_translation.res_id, ir_translation.lang,
        ir_translation.type, ir_translation.src, ir_translation.value,
        ir_translation.module, ir_translation.fuzzy,
        ir_translation.overriding_module,
        where=(ir_translation.type == Constant('model'))
        & (ir_translation.res_id > Constant(0))
        & SplitPart(ir_translation.name, Constant(','), Constant(1)).in_(
            model_view.select(model_view.name)))
    return [(MODEL_VIEW, models), (MODEL_DATA_VIEW, model_data),
        (TRANSLATION_VIEW, translations)]


def missing_views(cursor, shared_schema,
        names=(MODEL_VIEW, MODEL_DATA_VIEW)):
    "The names among names of the views that are not in shared_schema"
    found = {r.name for r in catalog.relations(
            cursor, list(names), kinds=('v',))
        if r.schema == shared_schema}
    return set(names) - found


def plan_grant(cursor, shared_schema, owner_role):
    """The plan that lets the members of the shared owner role work in the
    shared schema and read (only) the model data of the shared models"""
    plan = Plan('Grant access to the shared schema "%s"' % shared_schema)
    if not check_identifiers(plan, shared_schema, owner_role):
        return plan
    schema = catalog.current_schema(cursor)
    if schema == shared_schema:
        plan.refuse('same_schema', schema=schema)
        return plan
    check_roles(plan, cursor, owner_role, shared_schema)
    if not plan.ok:
        return plan
    if catalog.schema_privileges(cursor, shared_schema, owner_role) != {
            'USAGE', 'CREATE'}:
        plan.add(DDL('GRANT USAGE, CREATE ON SCHEMA %s TO %s',
                ident(shared_schema), ident(owner_role)),
            'Members of the shared owner role use the shared schema and '
            'run the DDL of module updates in it.')
    public = [g for g in catalog.schema_grants(cursor, shared_schema)
        if g.grantee == 'PUBLIC' and g.privilege == 'CREATE']
    if public:
        plan.add(DDL('REVOKE CREATE ON SCHEMA %s FROM PUBLIC',
                ident(shared_schema)),
            'No role outside the shared owner role may create objects in '
            'the shared schema.')
    views = [MODEL_VIEW, MODEL_DATA_VIEW, TRANSLATION_VIEW]
    existing = set(views) - missing_views(cursor, shared_schema, views)
    for name, query in model_views(schema, shared_schema):
        sql, params = tuple(query)
        assert not params
        if name not in existing:
            plan.add(DDL('CREATE VIEW %s AS %s',
                    qualified(shared_schema, name), sql),
                'Secondaries read through this view only the rows of '
                'the shared models from the primary\'s private schema "%s"; '
                'they get no other access to it.' % schema)
        if name not in existing or not any(
                g.grantee == owner_role and g.privilege == 'SELECT'
                for g in catalog.table_grants(cursor, shared_schema, name)):
            plan.add(DDL('GRANT SELECT ON %s TO %s',
                    qualified(shared_schema, name), ident(owner_role)),
                'Only members of the shared owner role may read it.')
    if not plan.statements:
        plan.note('Access is already granted.')
    return plan


def shadow_tables(cursor, tables, shared_schema):
    """The private tables, in any schema, named like a table of the shared
    schema that is in tables"""
    found = catalog.relations(cursor, tables)
    shared = {r.name for r in found if r.schema == shared_schema}
    return [r for r in found
        if r.schema != shared_schema and r.name in shared]
