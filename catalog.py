# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Read what PostgreSQL's catalog says about the shared set.

Every function takes a DB-API cursor (the one trytond gives, or any other)
and only reads.  The queries go to ``pg_catalog`` and not to
``information_schema``: the latter hides the objects a role has no privilege
on, which is exactly what must be seen here (shadow tables, foreign keys of
tables owned by another role).
"""
from collections import namedtuple

from sql import Literal, Table

ForeignKey = namedtuple('ForeignKey', [
        'name', 'schema', 'table', 'columns',
        'target_schema', 'target_table', 'on_delete'])
Relation = namedtuple('Relation', ['schema', 'name', 'owner', 'kind'])
Grant = namedtuple('Grant', ['grantee', 'privilege'])

ON_DELETE = {
    'a': 'NO ACTION',
    'r': 'RESTRICT',
    'c': 'CASCADE',
    'n': 'SET NULL',
    'd': 'SET DEFAULT',
    }


def _one(cursor, query, params=()):
    cursor.execute(query, params)
    row = cursor.fetchone()
    return row[0] if row else None


def current_user(cursor):
    return _one(cursor, 'SELECT current_user')


def current_schema(cursor):
    return _one(cursor, 'SELECT current_schema()')


def current_database(cursor):
    return _one(cursor, 'SELECT current_database()')


def search_path(cursor):
    "The schemas of the effective search path that exist, in order"
    return list(_one(cursor, 'SELECT current_schemas(false)') or [])


def server_version(cursor):
    return int(_one(cursor, 'SHOW server_version_num'))


def schema_exists(cursor, schema):
    return bool(_one(cursor,
            'SELECT count(*) FROM pg_namespace WHERE nspname = %s',
            (schema,)))


def schema_owner(cursor, schema):
    return _one(cursor,
        'SELECT pg_get_userbyid(nspowner) FROM pg_namespace '
        'WHERE nspname = %s', (schema,))


def role_exists(cursor, role):
    return bool(_one(cursor,
            'SELECT count(*) FROM pg_roles WHERE rolname = %s', (role,)))


def role_can_login(cursor, role):
    return bool(_one(cursor,
            'SELECT rolcanlogin FROM pg_roles WHERE rolname = %s', (role,)))


def is_member(cursor, role, group):
    "Whether role may act as group (SET ROLE or inherited)"
    if not (role_exists(cursor, role) and role_exists(cursor, group)):
        return False
    return bool(_one(cursor,
            "SELECT pg_has_role(%s, %s, 'MEMBER')", (role, group)))


def members(cursor, group):
    "The roles directly granted the group role"
    cursor.execute(
        'SELECT m.rolname FROM pg_auth_members a '
        'JOIN pg_roles g ON g.oid = a.roleid '
        'JOIN pg_roles m ON m.oid = a.member '
        'WHERE g.rolname = %s ORDER BY m.rolname', (group,))
    return [r for r, in cursor]


def schema_privileges(cursor, schema, role):
    "The set of USAGE/CREATE privileges role holds on schema"
    if not (schema_exists(cursor, schema) and role_exists(cursor, role)):
        return set()
    cursor.execute(
        "SELECT has_schema_privilege(%s, %s, 'USAGE'), "
        "has_schema_privilege(%s, %s, 'CREATE')",
        (role, schema, role, schema))
    usage, create = cursor.fetchone()
    return {p for p, v in [('USAGE', usage), ('CREATE', create)] if v}


def schema_grants(cursor, schema):
    "The explicit grants on schema, owner excluded, as Grant tuples"
    cursor.execute(
        "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' "
        "ELSE pg_get_userbyid(a.grantee) END, a.privilege_type "
        "FROM pg_namespace n, aclexplode(n.nspacl) a "
        "WHERE n.nspname = %s AND a.grantee <> n.nspowner "
        "ORDER BY 1, 2", (schema,))
    return [Grant(*r) for r in cursor]


def relations(cursor, names, kinds=('r', 'p')):
    """Every relation with one of the names, in any schema but the system
    ones, as Relation tuples sorted by name then schema"""
    if not names:
        return []
    cursor.execute(
        'SELECT n.nspname, c.relname, pg_get_userbyid(c.relowner), '
        'c.relkind '
        'FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace '
        'WHERE c.relname = ANY(%s) AND c.relkind = ANY(%s) '
        "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname NOT LIKE 'pg\\_toast%%' "
        'ORDER BY c.relname, n.nspname',
        (list(names), list(kinds)))
    return [Relation(*r) for r in cursor]


def tables_in(cursor, schema):
    "The names of the tables in schema"
    cursor.execute(
        'SELECT c.relname FROM pg_class c '
        'JOIN pg_namespace n ON n.oid = c.relnamespace '
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') "
        'ORDER BY c.relname', (schema,))
    return [r for r, in cursor]


def foreign_keys(cursor, schemas):
    """The foreign keys whose referencing or referenced table is in one of
    the schemas"""
    cursor.execute(
        'SELECT c.conname, sn.nspname, s.relname, '
        'ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY '
        'AS k(attnum, i) JOIN pg_attribute a ON a.attrelid = c.conrelid '
        'AND a.attnum = k.attnum ORDER BY k.i), '
        'tn.nspname, t.relname, c.confdeltype '
        'FROM pg_constraint c '
        'JOIN pg_class s ON s.oid = c.conrelid '
        'JOIN pg_namespace sn ON sn.oid = s.relnamespace '
        'JOIN pg_class t ON t.oid = c.confrelid '
        'JOIN pg_namespace tn ON tn.oid = t.relnamespace '
        "WHERE c.contype = 'f' "
        'AND (sn.nspname = ANY(%s) OR tn.nspname = ANY(%s)) '
        'ORDER BY sn.nspname, s.relname, c.conname',
        (list(schemas), list(schemas)))
    return [ForeignKey(
            name, schema, table, tuple(columns), target_schema, target_table,
            ON_DELETE.get(deltype, deltype))
        for (name, schema, table, columns, target_schema, target_table,
            deltype) in cursor]


def owned_sequences(cursor, schema, table):
    "The sequences owned by a column of the table (identity or serial)"
    cursor.execute(
        'SELECT sn.nspname, s.relname FROM pg_depend d '
        'JOIN pg_class s ON s.oid = d.objid '
        'JOIN pg_namespace sn ON sn.oid = s.relnamespace '
        'JOIN pg_class t ON t.oid = d.refobjid '
        'JOIN pg_namespace tn ON tn.oid = t.relnamespace '
        "WHERE s.relkind = 'S' AND d.deptype IN ('a', 'i') "
        'AND tn.nspname = %s AND t.relname = %s ORDER BY s.relname',
        (schema, table))
    return [(s, n) for s, n in cursor]


def table_grants(cursor, schema, table):
    "The explicit grants on a table, owner excluded, as Grant tuples"
    cursor.execute(
        "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' "
        "ELSE pg_get_userbyid(a.grantee) END, a.privilege_type "
        'FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, '
        'aclexplode(c.relacl) a '
        'WHERE n.nspname = %s AND c.relname = %s '
        'AND a.grantee <> c.relowner ORDER BY 1, 2', (schema, table))
    return [Grant(*r) for r in cursor]


def row_count(cursor, schema, table):
    "An estimate of the rows of a table, from its statistics"
    return _one(cursor,
        'SELECT c.reltuples::bigint FROM pg_class c '
        'JOIN pg_namespace n ON n.oid = c.relnamespace '
        'WHERE n.nspname = %s AND c.relname = %s', (schema, table))


def is_empty(cursor, schema, table):
    "Whether the table has no row; None when the role may not read it"
    if not _one(cursor,
            "SELECT has_table_privilege(format('%%I.%%I', %s::text, "
            "%s::text), 'SELECT')", (schema, table)):
        return None
    query = Table(table, schema=schema).select(Literal(1), limit=1)
    cursor.execute(*query)
    return cursor.fetchone() is None
