from proteus import Wizard

grant = Wizard('shared_schema.grant_access')
grant.execute('run')
print(grant.form.report)
