"""What a command found, as plain data: no torch, no rich. Every report has ``to_dict()`` (its
``--json`` document, with a ``schema_version``) and displays itself in a terminal or a notebook."""
