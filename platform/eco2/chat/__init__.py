"""chat's domain: 이코, a recycling assistant grounded in the knowledge base.

- ``settings``: :class:`ChatSettings` (the model, timeouts, retries, sessions, the rate limit; the image settings)
- ``grounding``: the knowledge base's entries for a message, as reference text, and its ``sources``
- ``prompt``: 이코's instructions, the messages sent to the model, and the guard against leaking them
- ``sessions``: the last turns of a conversation in Redis
- ``client``: the OpenAI client (``openai`` imported there, on first use)
- ``transport``: the client's HTTP transport: a deadline per attempt, long ``Retry-After`` waits shortened
- ``offline``: an answer composed without a model
- ``photo``: a scan's or a photo's classification as context
- ``conversation``: one message to one answer, whole or streamed

Nothing here is imported by another function; ``openai`` and the classifier
are imported only on the paths that use them.
"""
