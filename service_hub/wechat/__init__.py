"""WeChat mini-program server API: the client the service uses and the errors it raises.

The fake server for tests and the demo lives outside the product, in demo.fake_wechat, so
production code never pulls it in by accident; it shares subscribe_fields.py with our own check.
"""

from service_hub.wechat.client import WeChatClient, WeChatError, WeChatUnavailable

__all__ = ["WeChatClient", "WeChatError", "WeChatUnavailable"]
