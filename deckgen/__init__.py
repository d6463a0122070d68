"""deckgen: turn a Markdown question bank into Anki decks, printable cards and a JSON card list."""

__version__ = "0.1.0"
