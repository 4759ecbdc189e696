"""HTTP areas: each package turns requests into one domain call and back."""
