from proteus import Wizard

copy = Wizard('shared_schema.copy_model_data')
print(copy.form.sql)
copy.execute('run')
print(copy.form.report)
