"""Editing a document: undo commands and the controller that turns user intent into them.

Commands mutate only the ``graph.Document``; views follow the document's events. The
controller is the single place where an intent ("connect A.out to B.in") becomes a command.
"""
