"""What the four plugins share on top of singer-sdk (the core's extra `sdk`).

``settings``: the common settings and the clients built from them; ``run``: the base of a target's run
context and how a sink finds it; ``hooks``: the only places that touch singer-sdk internals; ``sinks``: the
sink parts both targets use.
"""
