"""chat: A chatbot grounded in the waste knowledge base."""

from eco2 import Function

fn = Function("chat", "/api/v1/chat")

handle = fn.build()
