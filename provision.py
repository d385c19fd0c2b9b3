# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""What a database administrator creates once for instances to share.

The database, one LOGIN role and one schema (of the same name, owned by it)
per instance, the NOLOGIN shared owner role with every instance's role as
member, and the owner role's USAGE and CREATE on the shared schema.  Only
what is missing is created; nothing is ever dropped nor altered, except the
owner of a database that is still owned by the administrator who runs this
(the state this leaves it in when the creation of the database succeeded
and the rest did not).

``CREATE DATABASE`` cannot run inside a transaction: it is a plan of its own
(:func:`plan_database`) run first; everything else is one plan
(:func:`plan_provision`) run in one transaction in the new database.
"""
from . import catalog
from .plan import DDL, Plan, check_identifiers, ident


def database_owner(cursor, database):
    "The owner of database, or None when it does not exist"
    cursor.execute(
        'SELECT pg_get_userbyid(datdba) FROM pg_database '
        'WHERE datname = %s', (database,))
    row = cursor.fetchone()
    return row[0] if row else None


def role_search_path(cursor, role, database):
    "The search_path set for role in database (ALTER ROLE ... SET), or None"
    cursor.execute(
        'SELECT s.setconfig FROM pg_db_role_setting s '
        'JOIN pg_roles r ON r.oid = s.setrole '
        'JOIN pg_database d ON d.oid = s.setdatabase '
        'WHERE r.rolname = %s AND d.datname = %s', (role, database))
    for config, in cursor:
        for item in config or []:
            name, _, value = item.partition('=')
            if name == 'search_path':
                return value
    return None


def plan_database(cursor, database):
    "The plan that creates database when it is missing"
    plan = Plan('Create the database "%s"' % database)
    if not check_identifiers(plan, database):
        return plan
    if database_owner(cursor, database) is None:
        plan.add(DDL("CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8'",
                ident(database)),
            'The database of the instances does not exist. It is created '
            'alone (CREATE DATABASE cannot run in a transaction); its owner '
            'is set in the next step.')
    else:
        plan.note('The database "%s" exists.' % database)
    return plan


def plan_provision(cursor, database, roles, owner_role, schema='public',
        in_database=True, created=False):
    """The plan that creates the missing roles, schemas, memberships and
    grants; roles are the instances' roles, the primary's first.

    cursor is connected as the administrator, to database when in_database
    (otherwise the schemas are taken as missing: the database does not
    exist yet); created tells that the database was created by this run
    (or will be, for a dry run)."""
    plan = Plan('Provision roles and schemas in database "%s"' % database)
    assert roles and owner_role not in roles, (roles, owner_role)
    if not check_identifiers(plan, database, owner_role, schema, *roles):
        return plan
    admin = catalog.current_user(cursor)
    primary = roles[0]

    def schema_exists(name):
        if not in_database:
            # A new database (from template0) has only schema public.
            return name == 'public'
        return catalog.schema_exists(cursor, name)

    for role in roles:
        if not catalog.role_exists(cursor, role):
            plan.add(DDL('CREATE ROLE %s LOGIN', ident(role)),
                'The instance connects as role %s: its tables live in the '
                'schema of the same name, first in its search path '
                '("$user"). Set its password apart if it needs one.' % role)
        elif not catalog.role_can_login(cursor, role):
            plan.note('Role "%s" exists and cannot log in; it is left as '
                'it is.' % role)

    owner = None if created else database_owner(cursor, database)
    if owner != primary and (owner is None or owner == admin):
        plan.add(DDL('ALTER DATABASE %s OWNER TO %s',
                ident(database), ident(primary)),
            'The primary instance\'s role owns the database, so that it '
            'owns schema public (owned by pg_database_owner) and can move '
            'its tables there.')
    elif owner != primary:
        plan.note('The database is owned by "%s", not by the primary\'s '
            'role "%s"; it is left as it is.' % (owner, primary))

    if not catalog.role_exists(cursor, owner_role):
        plan.add(DDL('CREATE ROLE %s NOLOGIN', ident(owner_role)),
            'The shared owner role owns the shared tables; its members, the '
            'instance roles, run the DDL of their module updates on them.')
        members = set()
    else:
        if catalog.role_can_login(cursor, owner_role):
            plan.refuse('owner_role_can_login', owner_role=owner_role,
                sql='ALTER ROLE %s NOLOGIN;' % ident(owner_role))
        members = set(catalog.members(cursor, owner_role))

    for role in roles:
        if not schema_exists(role):
            plan.add(DDL('CREATE SCHEMA %s AUTHORIZATION %s',
                    ident(role), ident(role)),
                'The private schema of instance %s, owned by its role.'
                % role)
        else:
            current = catalog.schema_owner(cursor, role)
            if current != role:
                plan.note('Schema "%s" exists and is owned by "%s", not by '
                    'role "%s"; it is left as it is.' % (
                        role, current, role))

    for role in roles:
        if role not in members:
            plan.add(DDL('GRANT %s TO %s', ident(owner_role), ident(role)),
                'Instance role %s acts as the shared owner role on the '
                'shared tables.' % role)

    if not schema_exists(schema):
        plan.add(DDL('CREATE SCHEMA %s AUTHORIZATION %s',
                ident(schema), ident(owner_role)),
            'The shared schema holds the shared tables.')
        privileges = set()
    elif in_database:
        privileges = catalog.schema_privileges(cursor, schema, owner_role)
    else:
        privileges = set()
    if privileges != {'USAGE', 'CREATE'}:
        plan.add(DDL('GRANT USAGE, CREATE ON SCHEMA %s TO %s',
                ident(schema), ident(owner_role)),
            'The shared owner role creates in the shared schema: PostgreSQL '
            'checks it when a table is handed to it, and its members create '
            'the indexes and columns of module updates there.')

    if schema != 'public':
        for role in roles:
            path = role_search_path(cursor, role, database) or ''
            if ident(schema) not in path and schema not in path.split(', '):
                plan.add(DDL('ALTER ROLE %s IN DATABASE %s SET search_path '
                        '= %s, %s, %s', ident(role), ident(database),
                        ident('$user'), ident('public'), ident(schema)),
                    'Instance %s finds the shared tables through its '
                    'search path.' % role)
    if not plan.statements:
        plan.note('Everything is provisioned already.')
    return plan


def plan_teardown(cursor, database, roles):
    """The plans that drop database (alone, as DROP DATABASE cannot run in
    a transaction) and then the roles that exist: for throw-away set-ups
    such as the demonstration"""
    drop = Plan('Drop the database "%s"' % database)
    if check_identifiers(drop, database, *roles) and database_owner(
            cursor, database) is not None:
        drop.add(DDL('DROP DATABASE %s WITH (FORCE)', ident(database)),
            'The demonstration is over.')
    drop_roles = Plan('Drop the roles')
    if drop.ok:
        for role in roles:
            if catalog.role_exists(cursor, role):
                drop_roles.add(DDL('DROP ROLE %s', ident(role)),
                    'Only the dropped database used it.')
    return [drop, drop_roles]
