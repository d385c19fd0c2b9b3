# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""pytest set-up: the environment of trytond's test framework and fixtures.

trytond reads TRYTOND_DATABASE_URI when trytond.config is first imported
and DB_NAME when trytond.tests.test_tryton is, so both are set here, before
any test module is imported. trytond's tests DROP the database DB_NAME: it
gets a unique name unless the user gave one.
"""
import os
import sys
import warnings
from urllib.parse import quote

import psycopg
import pytest

from . import harness

_GENERATED = {}
SHARED_SCHEMA = 'shared'


def _set_environ():
    if not os.environ.get('TRYTOND_DATABASE_URI'):
        if 'trytond.config' in sys.modules:
            raise pytest.UsageError(
                "trytond was imported before tests/conftest.py could set "
                "TRYTOND_DATABASE_URI: keep __init__.py and tests/__init__.py "
                "free of trytond imports, or set TRYTOND_DATABASE_URI and "
                "DB_NAME yourself")
        uri = harness.superuser_uri()
        # The in-process tests share their tables in a schema of the test
        # database named "shared", which must be in the search path.
        uri += ('&' if '?' in uri else '?') + 'options=' + quote(
            '-csearch_path="$user",public,%s' % SHARED_SCHEMA, safe='')
        os.environ['TRYTOND_DATABASE_URI'] = uri
    os.environ.setdefault('SHARED_SCHEMA_TEST_SCHEMA', SHARED_SCHEMA)
    if not os.environ.get('SHARED_SCHEMA_TEST_OWNER'):
        os.environ['SHARED_SCHEMA_TEST_OWNER'] = _GENERATED['OWNER'] = (
            harness.unique_name('test_shared_owner'))
    if not os.environ.get('DB_NAME'):
        os.environ['DB_NAME'] = _GENERATED['DB_NAME'] = harness.unique_name(
            'test_shared_schema')
    if not os.environ.get('DB_CACHE'):
        os.environ.pop('DB_CACHE', None)


_set_environ()


@pytest.fixture(scope='session', autouse=True)
def _drop_generated_database():
    """Create the shared owner role of the in-process tests; drop it and the
    database of trytond's tests when their names were generated here"""
    owner = _GENERATED.get('OWNER')
    if owner:
        with harness.admin_connect() as conn:
            conn.execute(psycopg.sql.SQL('CREATE ROLE {} NOLOGIN').format(
                    psycopg.sql.Identifier(owner)))
    yield
    name = _GENERATED.get('DB_NAME')
    if name:
        try:
            harness.drop_database(name)
        except psycopg.OperationalError as exception:
            warnings.warn('could not drop %s: %s' % (name, exception))
    if owner:
        try:
            with harness.admin_connect() as conn:
                conn.execute(psycopg.sql.SQL('DROP ROLE {}').format(
                        psycopg.sql.Identifier(owner)))
        except psycopg.Error as exception:
            warnings.warn('could not drop role %s: %s' % (owner, exception))


@pytest.fixture
def cluster():
    "A harness.Cluster that drops what it created at the end of the test."
    with harness.Cluster() as cluster:
        yield cluster
