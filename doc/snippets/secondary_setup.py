from proteus import Model, Wizard

Configuration = Model.get('shared_schema.configuration')
configuration = Configuration(1)
configuration.owner_role = 'tryton_shared'
configuration.role = 'secondary'
configuration.primary_schema = 'tryton1'
configuration.save()

setup = Wizard('shared_schema.setup')
setup.execute('run')
print(setup.form.report)
