"""The HTTP and websocket API of the venue service."""
