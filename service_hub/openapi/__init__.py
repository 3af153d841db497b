"""What the OpenAPI document says beyond the schemas: every operation's operationId and a real
example of its request body and success response, which client generators and the
mini-program team read (plugin.py adds them while the document is built)."""
