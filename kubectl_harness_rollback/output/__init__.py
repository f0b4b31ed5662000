"""Text for people and data for pipelines, made from the views' plain dicts."""
