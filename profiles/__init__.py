"""Card profiles and test personas: data, not code."""
