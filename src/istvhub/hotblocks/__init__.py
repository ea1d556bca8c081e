"""istvhub.hotblocks: violence per street block, H3 cell and LSOA, disclosure-controlled.

Pure core on frames: ``build_layers(records, blocks, Filters(...), get_rule())``; IO edges in
``service`` (store + gazetteer) and ``export``/``report`` (files). See docs/DISCLOSURE.md.
"""

from istvhub.hotblocks.aggregate import Filters, Layers, build_layers
from istvhub.hotblocks.disclosure import DisclosureRule, get_rule, protect
from istvhub.hotblocks.export import write_layers

__all__ = ["DisclosureRule", "Filters", "Layers", "build_layers", "get_rule", "protect",
           "write_layers"]
