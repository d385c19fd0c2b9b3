from proteus import Wizard

move = Wizard('shared_schema.move_tables')
print(move.form.analysis)
print(move.form.sql)
move.execute('run')
print(move.form.report)
