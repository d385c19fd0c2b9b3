from proteus import Model, Report

Configuration = Model.get('shared_schema.configuration')
sharing_map = Report('shared_schema.sharing_map')
extension, content, _, name = sharing_map.execute([Configuration(1)])
with open('sharing_map.png', 'wb') as file:
    file.write(content)
