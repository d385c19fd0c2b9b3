from proteus import Model, Wizard

Configuration = Model.get('shared_schema.configuration')
configuration = Configuration(1)
configuration.owner_role = 'tryton_shared'
configuration.save()
configuration.click('fill_preset')

setup = Wizard('shared_schema.setup')
print(setup.form.analysis)
print(setup.form.sql)
setup.form.party_prefix = '1-'
setup.execute('run')
print(setup.form.report)
