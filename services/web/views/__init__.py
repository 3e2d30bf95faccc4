"""The panel's pages, by who may see them."""
