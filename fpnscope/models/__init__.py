"""Model builders: backbones, necks and heads. Importing this package imports torch."""
