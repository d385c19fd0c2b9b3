# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Explain a deletion refused because another instance references the row.

A shared record may be referenced by the private tables of every instance
sharing it. trytond checks the references it knows (the Many2One fields of
its own pool, read through its own search path) before it deletes, but the
private tables of another instance are invisible to it: PostgreSQL refuses
the DELETE with a foreign key violation (ON DELETE RESTRICT or NO ACTION),
which trytond would let through as a raw database error. This mixin turns
it into a UserError naming the other instance (found in the registry by the
schema of the referencing table) and the referencing table and model.
"""
from sql import Table

from trytond import backend
from trytond.i18n import gettext
from trytond.model import ModelSQL
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from . import catalog
from .exceptions import SharedSchemaError
from .plan import REGISTRY_TABLE

FOREIGN_KEY_VIOLATION = '23503'


def referencing(exception):
    "The (schema, table, constraint) of the violated foreign key"
    diag = getattr(exception, 'diag', None)
    if diag is None:
        return None, None, None
    return diag.schema_name, diag.table_name, diag.constraint_name


def model_of(table):
    "The name of the model of this instance whose table is table, or None"
    pool = Pool()
    for name, Model in pool.iterobject():
        if (issubclass(Model, ModelSQL) and not Model._is_table_query()
                and getattr(Model, '_table', None) == table):
            return name
    return None


def instance_of(cursor, schema):
    "The name of the registered instance whose schema is schema, or None"
    own = catalog.current_schema(cursor)
    for relation in catalog.relations(cursor, [REGISTRY_TABLE]):
        if relation.schema == own:
            # A private registry: this instance is not set up.
            continue
        registry = Table(REGISTRY_TABLE, schema=relation.schema)
        cursor.execute(*registry.select(registry.name,
                where=registry.schema_name == schema))
        row = cursor.fetchone()
        if row:
            return row[0]
    return None


def explain(exception, model):
    """The SharedSchemaError for a foreign key violation raised by the
    deletion of records of model, or None when the referencing table is in
    this instance's own schema (trytond's own message is then right)"""
    if getattr(exception, 'sqlstate', None) != FOREIGN_KEY_VIOLATION:
        return None
    schema, table, constraint = referencing(exception)
    if not table:
        return None
    # The current transaction is aborted: read in a new one.
    with Transaction().new_transaction(readonly=True) as transaction:
        cursor = transaction.connection.cursor()
        if schema == catalog.current_schema(cursor):
            return None
        instance = instance_of(cursor, schema)
        referencing_model = model_of(table)
        return SharedSchemaError(gettext(
                'shared_schema.msg_delete_referenced',
                model=model,
                instance=instance or gettext(
                    'shared_schema.msg_unregistered_schema', schema=schema),
                table='%s.%s' % (schema, table),
                referencing_model=referencing_model or table,
                constraint=constraint or ''))


class CrossInstanceDeleteMixin:
    __slots__ = ()

    @classmethod
    def delete(cls, records):
        try:
            super().delete(records)
        except Exception as exception:
            # trytond may have turned the violation into one of its own
            # errors, guessed from this instance's fields only.
            cause = exception
            if not isinstance(cause, backend.DatabaseIntegrityError):
                cause = exception.__cause__
            if not isinstance(cause, backend.DatabaseIntegrityError):
                raise
            error = explain(cause, cls.__name__)
            if error is None:
                raise
            raise error from cause


class Party(CrossInstanceDeleteMixin, metaclass=PoolMeta):
    __name__ = 'party.party'


class Address(CrossInstanceDeleteMixin, metaclass=PoolMeta):
    __name__ = 'party.address'


class ContactMechanism(CrossInstanceDeleteMixin, metaclass=PoolMeta):
    __name__ = 'party.contact_mechanism'


class Identifier(CrossInstanceDeleteMixin, metaclass=PoolMeta):
    __name__ = 'party.identifier'


class Category(CrossInstanceDeleteMixin, metaclass=PoolMeta):
    __name__ = 'party.category'


class Country(CrossInstanceDeleteMixin, metaclass=PoolMeta):
    __name__ = 'country.country'


class Subdivision(CrossInstanceDeleteMixin, metaclass=PoolMeta):
    __name__ = 'country.subdivision'
