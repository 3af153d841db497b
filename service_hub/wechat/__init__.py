"""WeChat mini-program server API: the client the service uses and the errors it raises.

The fake server for tests and demos lives in service_hub.wechat.fake_server and is imported
from there on purpose, so production code never pulls it in by accident.
"""

from service_hub.wechat.client import WeChatClient, WeChatError, WeChatUnavailable

__all__ = ["WeChatClient", "WeChatError", "WeChatUnavailable"]
