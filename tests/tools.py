# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Helpers for the scenarios: what the database administrator does"
from trytond.modules.shared_schema import catalog
from trytond.modules.shared_schema.plan import DDL, ident
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction


def create_schema(name):
    "Create the schema name in the test database"
    with Transaction().start(DB_NAME, 0) as transaction:
        cursor = transaction.connection.cursor()
        cursor.execute(*DDL('CREATE SCHEMA IF NOT EXISTS %s', ident(name)))
        transaction.commit()


def tables_in(schema):
    "The names of the tables of schema in the test database"
    with Transaction().start(DB_NAME, 0) as transaction:
        return catalog.tables_in(transaction.connection.cursor(), schema)
