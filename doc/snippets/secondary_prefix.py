from proteus import Wizard

prefix = Wizard('shared_schema.set_party_prefix')
prefix.form.prefix = '2-'
prefix.execute('set_')
