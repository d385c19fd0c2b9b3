# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The state of the instances sharing a database, without a Tryton pool.

:func:`collect` runs in a process connected as one instance (through any
DB-API cursor) and returns plain data (JSON-serialisable); :func:`evaluate`
combines what every instance returned into findings, each a problem (the
command exits non-zero) or a warning.
"""
from sql import Table

from . import catalog, model_data, translation
from .plan import (
    MESSAGES, REGISTRY_TABLE, Refusal, analyse_foreign_keys, format_fk,
    missing_views, shadow_tables)

CONFIGURATION_TABLE = 'shared_schema_configuration'
MODEL_TABLE = 'shared_schema_model'
REGISTRY_COLUMNS = ['name', 'schema_name', 'db_role', 'role',
    'primary_schema', 'party_prefix', 'setup_date', 'models', 'tables']
CONFIGURATION_COLUMNS = ['instance_name', 'role', 'schema', 'primary_schema',
    'owner_role', 'lock_timeout']
ACTIVATED = ('activated', 'to upgrade', 'to remove')


def _exists(cursor, schema, table):
    return any(r.schema == schema for r in catalog.relations(cursor, [table]))


def configuration(cursor):
    """The shared_schema configuration of the cursor's instance as a dict
    with its model names, or None when the module is not activated"""
    schema = catalog.current_schema(cursor)
    if not _exists(cursor, schema, CONFIGURATION_TABLE):
        return None
    table = Table(CONFIGURATION_TABLE, schema=schema)
    cursor.execute(*table.select(
            *[getattr(table, c) for c in CONFIGURATION_COLUMNS],
            order_by=[table.id], limit=1))
    row = cursor.fetchone()
    if row is None:
        return None
    result = dict(zip(CONFIGURATION_COLUMNS, row))
    line = Table(MODEL_TABLE, schema=schema)
    model = Table('ir_model', schema=schema)
    cursor.execute(*line.join(model, condition=line.model == model.id
            ).select(model.name, order_by=[model.name]))
    result['models'] = [n for n, in cursor]
    return result


def registry(cursor, shared_schema):
    "The rows of the registry in the shared schema, or None without it"
    if not _exists(cursor, shared_schema, REGISTRY_TABLE):
        return None
    table = Table(REGISTRY_TABLE, schema=shared_schema)
    cursor.execute(*table.select(
            *[getattr(table, c) for c in REGISTRY_COLUMNS],
            order_by=[table.id]))
    result = []
    for row in cursor:
        instance = dict(zip(REGISTRY_COLUMNS, row))
        if instance['setup_date'] is not None:
            instance['setup_date'] = str(instance['setup_date'])
        instance['models'] = (instance['models'] or '').split()
        tables = {}
        for line in (instance['tables'] or '').splitlines():
            if line.strip():
                name, _, model = line.partition(' ')
                tables[name] = model or name
        instance['tables'] = tables
        result.append(instance)
    return result


def primary_entry(instances, schema=None):
    "The registered primary (of schema when given), or None"
    for instance in instances or []:
        if instance['role'] == 'primary' and instance['setup_date'] and (
                schema is None or instance['schema_name'] == schema):
            return instance
    return None


def modules(cursor):
    "{module: state} of the cursor's instance"
    schema = catalog.current_schema(cursor)
    if not _exists(cursor, schema, 'ir_module'):
        return {}
    table = Table('ir_module', schema=schema)
    cursor.execute(*table.select(table.name, table.state))
    return dict(cursor)


def shared_model_modules(cursor, models):
    """{module: [what]} for the modules that define fields or records of
    the shared models on the cursor's instance"""
    schema = catalog.current_schema(cursor)
    result = {}
    if not models:
        return result
    field = Table('ir_model_field', schema=schema)
    cursor.execute(*field.select(field.module, field.model, field.name,
            where=field.model.in_(list(models)),
            order_by=[field.module, field.model, field.name]))
    for module, model, name in cursor:
        result.setdefault(module, []).append(
            'field %s.%s' % (model, name))
    data = Table('ir_model_data', schema=schema)
    cursor.execute(*data.select(data.module, data.model,
            where=data.model.in_(list(models)),
            group_by=[data.module, data.model],
            order_by=[data.module, data.model]))
    for module, model in cursor:
        result.setdefault(module, []).append('records of %s' % model)
    return result


def table_facts(cursor, shared_schema, owner_role, tables):
    "Where each shared table lives, its owner and its grants"
    result = []
    found = {}
    for relation in catalog.relations(cursor, list(tables)):
        found.setdefault(relation.name, []).append(relation)
    for table in sorted(tables):
        relations = found.get(table, [])
        shared = [r for r in relations if r.schema == shared_schema]
        grants = catalog.table_grants(cursor, shared_schema, table) if (
            shared) else []
        result.append({
                'table': table,
                'model': tables[table],
                'schemas': [r.schema for r in relations],
                'shared': bool(shared),
                'owner': shared[0].owner if shared else None,
                'grants': ['%s:%s' % (g.grantee, g.privilege)
                    for g in grants],
                })
    return result


def collect(cursor, shared_schema=None, owner_role=None, shared=True):
    """What the cursor's instance sees: its configuration and modules, the
    registry, its drift when it is a secondary and, when shared, the state
    of the shared tables"""
    result = {
        'user': catalog.current_user(cursor),
        'schema': catalog.current_schema(cursor),
        'search_path': catalog.search_path(cursor),
        'configuration': configuration(cursor),
        }
    config = result['configuration'] or {}
    shared_schema = shared_schema or config.get('schema') or 'public'
    owner_role = owner_role or config.get('owner_role')
    result['shared_schema'] = shared_schema
    result['owner_role'] = owner_role
    result['modules'] = sorted(
        m for m, s in modules(cursor).items() if s in ACTIVATED)
    instances = registry(cursor, shared_schema)
    result['registry'] = instances
    primary = primary_entry(instances, config.get('primary_schema')
        if config.get('role') == 'secondary' else None)
    models = primary['models'] if primary else config.get('models', [])
    result['shared_model_modules'] = shared_model_modules(cursor, models)
    result['drift'] = None
    if config.get('role') == 'secondary' and not missing_views(
            cursor, shared_schema):
        result['drift'] = model_data.drift(cursor, shared_schema)
        result['translation_drift'] = translation.drift(
            cursor, shared_schema)
    if shared:
        result['shared'] = shared_facts(
            cursor, shared_schema, owner_role, primary)
    return result


def shared_facts(cursor, shared_schema, owner_role, primary):
    "The state of the shared tables of the registered primary"
    tables = primary['tables'] if primary else {}
    result = {
        'tables': table_facts(cursor, shared_schema, owner_role, tables),
        'owner_role_exists': bool(owner_role) and catalog.role_exists(
            cursor, owner_role),
        'members': catalog.members(cursor, owner_role) if owner_role else [],
        'shadows': ['%s.%s' % (r.schema, r.name) for r in shadow_tables(
                cursor, list(tables), shared_schema)],
        'foreign_keys_outside': [],
        'cascades': [],
        }
    if tables:
        plan_like = _Findings()
        fks = catalog.foreign_keys(cursor, [shared_schema])
        outside, cascades = analyse_foreign_keys(
            plan_like, fks, tables, shared_schema, shared_schema)
        result['foreign_keys_outside'] = sorted(
            {format_fk(f) for f in outside})
        result['cascades'] = sorted(
            '%s.%s' % (f.schema, format_fk(f)) for f in cascades)
    return result


class _Findings:
    "What analyse_foreign_keys needs of a plan"

    def __init__(self):
        self.refusals = []

    def refuse(self, code, **params):
        self.refusals.append(Refusal(code, params))


def prefix_collisions(instances):
    "The pairs of registered instances whose party codes may collide"
    result = []
    instances = list(instances or [])
    for i, one in enumerate(instances):
        for other in instances[i + 1:]:
            a, b = one['party_prefix'] or '', other['party_prefix'] or ''
            if a == b:
                why = 'same prefix "%s"' % a
            elif not a or not b:
                why = 'an empty prefix'
            elif a.startswith(b) or b.startswith(a):
                why = 'prefix "%s" starts with "%s"' % (
                    max(a, b, key=len), min(a, b, key=len))
            else:
                continue
            result.append('%s and %s: %s' % (one['name'], other['name'], why))
    return result


def evaluate(results):
    """Findings from the collect() results of every instance (the primary's
    first): a dict with 'problems' and 'warnings', each a list of
    {'code', 'instance', 'message'}"""
    problems, warnings = [], []

    def problem(code, instance, message, **extra):
        problems.append(dict(extra,
                code=code, instance=instance, message=message))

    def warning(code, instance, message):
        warnings.append(
            {'code': code, 'instance': instance, 'message': message})

    first = results[0]
    shared_schema = first['shared_schema']
    owner_role = first['owner_role']
    instances = first['registry']
    primary = None
    if instances is None:
        problem('registry_missing', None,
            MESSAGES['registry_missing'] % {'schema': shared_schema})
        instances = []
    else:
        primary = primary_entry(instances)
        if primary is None:
            problem('primary_not_registered', None,
                'No primary is registered in "%s": run the "Set up Shared '
                'Schema" wizard on the primary.' % shared_schema)
    registered = {i['schema_name']: i for i in instances}
    for result in results:
        name = result['schema']
        config = result['configuration']
        if config is None:
            problem('not_configured', name, 'Instance "%s" has no '
                'shared_schema configuration: activate the module on it and '
                'run the "Set up Shared Schema" wizard.' % name)
            continue
        if name not in registered:
            problem('not_registered', name, 'Instance "%s" is not '
                'registered: run the "Set up Shared Schema" wizard on it.'
                % name)
        if shared_schema not in result['search_path']:
            problem('schema_not_in_path', name, 'The shared schema "%s" is '
                'not in the search path of role "%s" (%s).' % (
                    shared_schema, result['user'],
                    ', '.join(result['search_path'])))
        if config['schema'] != shared_schema:
            problem('other_shared_schema', name, 'Instance "%s" shares '
                'schema "%s", not "%s".' % (
                    name, config['schema'], shared_schema))
    for result in results[1:]:
        config = result['configuration'] or {}
        name = result['schema']
        if config.get('role') != 'secondary':
            continue
        drift = result['drift']
        if drift is None:
            problem('model_data_missing', name, MESSAGES[
                    'model_data_missing'] % {'view': '%s.%s' % (
                        shared_schema, 'shared_schema_primary_model_data')})
        elif drift['models'] or drift['missing'] or drift['stale']:
            problem('drift', name, 'The model data of secondary "%s" differs '
                'from the primary\'s: %s missing, %s stale ir_model_data '
                'rows, %s missing ir_model rows. Run: trytond-shared-schema '
                'upgrade (or the "Copy Model Data" wizard) before activating '
                'or upgrading any module on it.' % (
                    name, drift['missing'], drift['stale'],
                    drift['models']))
        translations = result.get('translation_drift')
        if translations and (translations['missing']
                or translations['stale']):
            problem('translation_drift', name, 'The translations of the '
                'shared records on secondary "%s" differ from the '
                'primary\'s: %s missing, %s stale (%s of them edited on the '
                'secondary, which the next copy replaces: the primary is '
                'the source of truth). Run: trytond-shared-schema upgrade '
                '(or the "Copy Model Data" wizard).' % (
                    name, translations['missing'], translations['stale'],
                    translations['conflicts']))
    checked = {r['schema'] for r in results}
    for instance in instances:
        if instance['schema_name'] not in checked:
            warning('not_checked', instance['schema_name'],
                'Registered instance "%s" was not checked: give its '
                'configuration with -c.' % instance['name'])

    primary_result = results[0]
    if (primary_result['configuration'] or {}).get('role') == 'primary':
        primary_modules = set(primary_result['modules'])
        for result in results[1:]:
            if (result['configuration'] or {}).get('role') != 'secondary':
                continue
            extra = set(result['modules']) - primary_modules
            for module in sorted(extra & set(
                        result['shared_model_modules'])):
                what = result['shared_model_modules'][module]
                problem('module_not_on_primary', result['schema'],
                    'Module "%s" is activated on secondary "%s" but not on '
                    'the primary "%s", and it touches shared models (%s). '
                    'Activate it on the primary, then on the secondaries: '
                    'trytond-shared-schema upgrade -c PRIMARY.conf -c '
                    'SECONDARY.conf ... -d DATABASE -u %s' % (
                        module, result['schema'], primary_result['schema'],
                        ', '.join(what[:5]) + (
                            ', ...' if len(what) > 5 else ''), module),
                    module=module)

    shared = first.get('shared') or {}
    for table in shared.get('tables', []):
        where = table['table']
        if not table['shared']:
            problem('table_not_shared', None, 'Shared table "%s" (%s) is not '
                'in the shared schema "%s" (found in: %s).' % (
                    where, table['model'], shared_schema,
                    ', '.join(table['schemas']) or 'nowhere'))
            continue
        if table['owner'] != owner_role:
            problem('table_owner', None, 'Shared table "%s" is owned by "%s", '
                'not by the shared owner role "%s".' % (
                    where, table['owner'], owner_role))
        public = [g for g in table['grants'] if g.startswith('PUBLIC:')]
        if public:
            problem('public_grants', None, 'Shared table "%s" is granted to '
                'PUBLIC: %s.' % (where, ', '.join(public)))
    if shared.get('shadows'):
        problem('shadow_tables', None, MESSAGES['shadow_tables'] % {
                'tables': ', '.join(shared['shadows'])})
    if shared.get('foreign_keys_outside'):
        problem('foreign_key_outside', None, MESSAGES['foreign_key_outside']
            % {'constraints': ', '.join(shared['foreign_keys_outside'])})
    if shared.get('cascades'):
        warning('cascade_from_private', None, 'Deleting a shared record '
            'cascades into private tables: %s.' % ', '.join(
                shared['cascades']))
    if owner_role and not shared.get('owner_role_exists', True):
        problem('owner_role_missing', None, 'The shared owner role "%s" '
            'does not exist.' % owner_role)
    roles = {i['db_role'] for i in instances}
    for member in shared.get('members', []):
        if instances and member not in roles:
            problem('member_not_registered', None, 'Role "%s" is a member of '
                'the shared owner role "%s" (it holds every owner right on '
                'the shared tables, DROP included) but is not a registered '
                'instance.' % (member, owner_role))
    for collision in prefix_collisions(instances):
        problem('prefix_collision', None,
            'Party codes may collide: %s.' % collision)
    return {'problems': problems, 'warnings': warnings}
