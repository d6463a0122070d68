"""Default templates for deckgen's renderers (data only; installed as ``deckgen.renderers``)."""
