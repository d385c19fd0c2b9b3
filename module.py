# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond import backend
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction


class ModuleActivateUpgrade(metaclass=PoolMeta):
    __name__ = 'ir.module.activate_upgrade'

    def transition_upgrade(self):
        "Resync a secondary's model data before the modules are loaded"
        if backend.name == 'postgresql':
            with Transaction().new_transaction() as transaction:
                Configuration = Pool().get('shared_schema.configuration')
                configuration = Configuration(1)
                if configuration.role == 'secondary':
                    configuration.copy_model_data()
                    transaction.commit()
        return super().transition_upgrade()
