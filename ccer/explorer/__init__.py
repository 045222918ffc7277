"""The public explorer (issue #17): what anyone may read without an account — projects with search and filters,
a project's whole record (facts, map, timeline, documents, batches, issuances, retirements), the publicity board,
issuance and retirement lists, certificate lookup, the methodology catalogue, figures and market data, and the
ledger's checkpoint with how to verify it offline.

    search     the project list: parameters checked, filters, full-text search, keyset pages
    record     one project's public record and its timeline from the ledger
    registry   issuance and retirement lists, certificate lookup, figures over time
    catalogue  the methodology plug-ins as a catalogue, with the projects using each
    pages      the blueprint: thin views over the modules above
    errors     pages for 4xx on non-API paths, in the visitor's language
    indexes    the indexes these lists stand on

Drafts are never public (`visibility.public_projects`)."""
from __future__ import annotations


def init_app(app) -> None:
    """Register the explorer's pages and its error pages (imported here: `load_models` imports only `indexes`)."""
    from . import errors, labels, pages

    app.register_blueprint(pages.bp)
    app.jinja_env.globals["explorer_labels"] = labels
    errors.init_app(app)
