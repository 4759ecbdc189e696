"""Service catalog: services, versions, lifecycle, search."""
