"""WattNet as an OCPI 2.2.1 CPO: models, modules, the partner store (docs/ocpi.md)."""
