# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Tests of the end-to-end test harness against the PostgreSQL server."""
import configparser
import os
import re

import pytest

from . import harness


def exists(kind, name):
    table, column = {
        'role': ('pg_roles', 'rolname'),
        'database': ('pg_database', 'datname'),
        }[kind]
    with harness.admin_connect() as conn:
        return bool(conn.execute(
                'SELECT 1 FROM %s WHERE %s = %%s' % (table, column),
                (name,)).fetchall())


def test_unique_name():
    names = {harness.unique_name('Shared-Schema') for _ in range(100)}
    assert len(names) == 100
    pattern = r'shared_schema_%d_[0-9a-f]{8}' % os.getpid()
    assert all(re.fullmatch(pattern, name) for name in names)
    long_name = harness.unique_name('9' * 100)
    assert len(long_name.encode()) <= 63
    assert re.fullmatch(r'[a-z_][a-z0-9_]*', long_name)


def test_uri_follows_pghost(monkeypatch):
    monkeypatch.setenv('PGHOST', '/run/pg sock')
    monkeypatch.setenv('PGPORT', '5433')
    assert harness.make_uri('alice', 'secret') == (
        'postgresql://alice:secret@/?host=/run/pg%20sock&port=5433')
    monkeypatch.setenv('PGHOST', 'localhost')
    assert harness.make_uri('alice', dbname='db') == (
        'postgresql://alice@localhost:5433/db')


def test_cluster_drops_what_it_created():
    outsider = harness.unique_name('outsider')
    with harness.admin_connect() as conn:
        conn.execute('CREATE ROLE %s NOLOGIN' % outsider)
    try:
        with harness.Cluster() as cluster:
            role = cluster.create_role()
            group = cluster.create_role(login=False)
            dbname = cluster.create_database(owner=role)
            cluster.create_schema(dbname, role, owner=role)
            cluster.grant_role(group, role)
            cluster.grant_role(group, outsider)
            assert exists('role', role) and exists('database', dbname)
            assert cluster.execute(
                dbname, 'SELECT nspowner::regrole::text FROM pg_namespace '
                'WHERE nspname = %s', (role,)) == [(role,)]
            assert cluster.count(
                'postgres', 'SELECT count(*) FROM pg_auth_members '
                'WHERE roleid = %s::regrole', (group,)) == 2
            assert cluster.execute(dbname, 'SET search_path TO public') == []
            conn = cluster.connect(role, dbname)
            assert conn.execute(
                'SELECT current_user, current_schema').fetchall() == [
                (role, role)]
        assert not exists('database', dbname)
        assert not exists('role', role) and not exists('role', group)
        assert exists('role', outsider)
    finally:
        with harness.admin_connect() as conn:
            conn.execute('DROP ROLE IF EXISTS %s' % outsider)


def test_instance(tmp_path, cluster):
    role = cluster.create_role()
    dbname = cluster.create_database(owner=role)
    cluster.create_schema(dbname, role, owner=role)
    instance = harness.Instance(
        cluster, dbname, role, tmp_path, 'first', listen=8123)

    config = configparser.ConfigParser(interpolation=None)
    config.read(instance.config_file)
    assert config.get('database', 'uri') == cluster.uri_for(role)
    assert config.get('web', 'listen') == '127.0.0.1:8123'

    instance.init()
    assert cluster.execute(
        dbname, 'SELECT DISTINCT schemaname, tableowner FROM pg_tables '
        "WHERE tablename LIKE 'ir\\_%%' OR tablename LIKE 'res\\_%%'") == [
        (role, role)]
    assert instance.execute('SELECT current_user') == [(role,)]

    assert instance.proteus(
        "User = Model.get('res.user')\n"
        "result = [u.login for u in User.find([])]") == ['admin']
    with pytest.raises(harness.ChildError) as info:
        instance.proteus(
            "from trytond.exceptions import UserError\n"
            "raise UserError('no such thing', 'told you')")
    assert info.value.child_error == 'no such thing'
    assert info.value.child_type == 'trytond.exceptions.UserError'
    assert 'told you' in str(info.value)
    assert 'raise UserError' in info.value.child_traceback

    with pytest.raises(AssertionError, match='nosuchmodule'):
        instance.admin('-u', 'nosuchmodule')
