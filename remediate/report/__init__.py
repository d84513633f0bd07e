"""What the tool prints: text, the JSON document, progress, consoles."""
