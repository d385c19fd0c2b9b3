from proteus import Model

Party = Model.get('party.party')
party = Party(name="Created on this instance")
party.save()
print(party.code)
print(sorted(p.name for p in Party.find([])))
