"""Platform-free engine of IMA Bot: the IMA client, the conversation and its state.

Nothing under ``core`` may import a chat platform SDK; adapters in ``bot`` depend on core, never
the other way round.
"""
