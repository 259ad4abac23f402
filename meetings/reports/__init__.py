"""The partnership dashboard: figures (selectors), SVG charts and the back-office views."""
